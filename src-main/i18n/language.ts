/**
 * Which language to speak: from a POSIX environment (the CLI) or from the desktop's preferred
 * languages (the Electron menu). Anything VMDesk has no catalogue for falls back to English.
 */

import { LANGUAGES, type Language } from '../api/languages.js';

export { LANGUAGES, type Language };

/** The language of a locale name: "de_DE.UTF-8", "de-AT", "de@euro", "de" → de; "C", "POSIX", "fr_FR" → null. */
export function languageOfLocale(locale: string | undefined): Language | null {
  const code = /^([A-Za-z]{2,3})(?:[_\-.@]|$)/.exec(locale ?? '')?.[1]?.toLowerCase();
  return (LANGUAGES as readonly string[]).includes(code ?? '') ? (code as Language) : null;
}

/**
 * VMDESK_LANG=en|de when given, else the locale that decides messages in POSIX: the first of
 * LC_ALL, LC_MESSAGES and LANG that is set and not empty (so LC_ALL=C speaks English even under
 * LANG=de_DE.UTF-8, as every other program does).
 */
export function languageFromEnv(env: NodeJS.ProcessEnv): Language {
  const override = languageOfLocale(env.VMDESK_LANG);
  if (override) return override;
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '');
  return languageOfLocale(locale) ?? 'en';
}

/**
 * The desktop app's language: VMDESK_LANG when given, else the first of the system's preferred
 * languages VMDesk speaks (a user who prefers French, then German, gets German), else the app's
 * locale, else English.
 */
export function languageForDesktop(override: string | undefined, preferred: readonly string[], appLocale: string): Language {
  for (const locale of [override, ...preferred, appLocale]) {
    const language = languageOfLocale(locale);
    if (language) return language;
  }
  return 'en';
}
