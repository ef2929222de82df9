/**
 * Which language the renderer speaks: the user's choice (Preferences › Language, kept in this
 * browser's localStorage, shared by every window of the origin), or the desktop's/browser's own
 * (navigator.languages: the first one VMDesk speaks wins; none: English).
 */
export const LOCALES = ['en', 'de'] as const;
export type AppLocale = (typeof LOCALES)[number];
/** What the user picked: a language, or whatever the desktop says ('system'). */
export type LanguagePreference = 'system' | AppLocale;
export const LANGUAGE_PREFERENCES: readonly LanguagePreference[] = ['system', ...LOCALES];

/** The localStorage key of the choice. */
export const LANGUAGE_STORAGE_KEY = 'vmdesk.language';

export function isLanguagePreference(v: unknown): v is LanguagePreference {
  return typeof v === 'string' && (LANGUAGE_PREFERENCES as readonly string[]).includes(v);
}

/** "de-AT" → "de"; "EN_us" → "en". */
export function primaryTag(tag: string): string {
  return tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
}

/** The first of the desktop's languages VMDesk speaks, else English. */
export function systemLocale(languages: readonly string[]): AppLocale {
  for (const tag of languages) {
    const primary = primaryTag(tag);
    if ((LOCALES as readonly string[]).includes(primary)) return primary as AppLocale;
  }
  return 'en';
}

export function resolveLocale(preference: LanguagePreference, languages: readonly string[]): AppLocale {
  return preference === 'system' ? systemLocale(languages) : preference;
}

/** On the server (`vmdesk serve` drawing the main window): the languages of the request being answered. */
let requestLanguages: readonly string[] = [];

export function setRequestLanguages(languages: readonly string[]): void {
  requestLanguages = languages;
}

/** The desktop's languages as this page sees them (Electron: the system's; a browser: its own setting). */
export function navigatorLanguages(): readonly string[] {
  if (typeof window === 'undefined') return requestLanguages;
  if (typeof navigator === 'undefined') return [];
  if (navigator.languages?.length) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

/** The tag for Intl (dates, numbers): the desktop's own variant of the UI language (de-AT, en-GB…), else its usual one. */
export function intlTag(locale: AppLocale, languages: readonly string[]): string {
  const own = languages.find((tag) => primaryTag(tag) === locale);
  if (own) {
    try {
      return Intl.getCanonicalLocales(own.replace('_', '-'))[0] ?? locale;
    } catch {
      // A malformed tag from the system: the language's usual form.
    }
  }
  return locale === 'de' ? 'de-DE' : 'en-US';
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    // Storage disabled (a sandboxed frame, a privacy setting): the choice lasts as long as the page.
    return null;
  }
}

export function readLanguagePreference(): LanguagePreference {
  const v = storage()?.getItem(LANGUAGE_STORAGE_KEY);
  return isLanguagePreference(v) ? v : 'system';
}

export function writeLanguagePreference(preference: LanguagePreference): void {
  const s = storage();
  if (!s) return;
  if (preference === 'system') s.removeItem(LANGUAGE_STORAGE_KEY);
  else s.setItem(LANGUAGE_STORAGE_KEY, preference);
}
