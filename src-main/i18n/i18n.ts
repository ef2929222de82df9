/**
 * The translations of the CLI and the desktop app's menus: one i18next instance, its catalogues
 * bundled in (no backend to load them from: the CLI starts fast and works offline), English until
 * setLanguage() says otherwise, so a module's text can be tested without any environment.
 */
import i18next from 'i18next';
import coreGerman from '../api/messages/de/index.js';
import { localiseMessage } from '../api/messages/localise.js';
import { catalogues, type Key } from './catalogues.js';
import type { Language } from './language.js';

export type { Key } from './catalogues.js';

const i18n = i18next.createInstance();
void i18n.init({
  lng: 'en',
  fallbackLng: 'en',
  resources: { en: { translation: catalogues.en }, de: { translation: catalogues.de } },
  // Synchronous: every catalogue is already in memory.
  initAsync: false,
  // Terminal text, not HTML; and keys are dotted paths without namespaces.
  interpolation: { escapeValue: false },
  nsSeparator: false,
  returnNull: false,
});

let current: Language = 'en';

export function setLanguage(language: Language): void {
  current = language;
  void i18n.changeLanguage(language);
}

export function language(): Language {
  return current;
}

export type Translate = (key: Key, values?: Record<string, string | number>) => string;

/** A text of the current language; `count` picks the plural form (keys ending _one/_other). */
export const t: Translate = (key, values) => i18n.t(key, values ?? {});

/** The texts of one language, whatever the current one (the desktop menu is built for a language it is given). */
export function translator(language: Language): Translate {
  const fixed = i18n.getFixedT(language);
  return (key, values) => fixed(key, values ?? {});
}

/**
 * A message of the core (an error, a task's title or progress, a warning), worded in English there,
 * in the current language (see src-main/api/messages): the CLI's frames are its own catalogues.
 */
export function coreText(message: string): string {
  return current === 'de' ? localiseMessage(message, coreGerman) : message;
}

/** The BCP 47 locale of each language, for Intl. */
const LOCALES: Record<Language, string> = { en: 'en-US', de: 'de-DE' };

/**
 * A number in the language's decimal sign, with `digits` decimals, or as many as it has. No
 * grouping: 1024 MiB stays one token (and the English output stays what scripts have always seen).
 */
export function formatNumber(n: number, digits?: number): string {
  const decimals = digits === undefined ? { maximumFractionDigits: 20 } : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(LOCALES[current], { ...decimals, useGrouping: false }).format(n);
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** A size in bytes, KiB, MiB, GiB or TiB, with one decimal above bytes: "1.5 GiB", "1,5 GiB". */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit < 0 ? t('units.bytes', { count: bytes, n: formatNumber(bytes) }) : `${formatNumber(value, 1)} ${UNITS[unit] ?? ''}`;
}

/** A moment in the local time zone, as the language writes dates: "12/3/2026, 11:04:18 AM", "3.12.2026, 11:04:18". */
export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(LOCALES[current]);
}
