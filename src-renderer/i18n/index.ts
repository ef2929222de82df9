/**
 * The renderer's one translation library: vue-i18n in Composition mode. English (./en) is the
 * source catalogue and is always loaded; German (./de) and Element Plus's German strings come in a
 * chunk of their own, fetched only when German is shown (an English user pays nothing for them).
 *
 * Templates and TypeScript (commands, stores, lib) alike use `t` from here, not vue-i18n's `$t`: its
 * key is typed with the English catalogue's keys, so a wrong key fails vue-tsc ($t takes any string).
 * Text with markup inside (<strong>, <code>, <kbd>) is an <i18n-t keypath="…"> with slots; its
 * keypaths are checked by i18n/catalogue.test.ts. The German catalogue must have exactly the English
 * keys: a type error in ./de, and a failure of catalogue.test.ts.
 */
import type { Catalogue } from '../../src-main/api/messages/localise';
import { computed, ref, shallowRef } from 'vue';
import { createI18n } from 'vue-i18n';
import type { Language } from 'element-plus/es/locale';
import en from './en';
import {
  navigatorLanguages,
  readLanguagePreference,
  resolveLocale,
  writeLanguagePreference,
  LANGUAGE_STORAGE_KEY,
  type AppLocale,
  type LanguagePreference,
} from './language';

export type MessageSchema = typeof en;

/** Every key of the catalogue, as dotted paths ("main.toolbar.new"). */
type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];
export type MessageKey = Leaves<MessageSchema>;

export const i18n = createI18n({
  legacy: false,
  locale: 'en',
  fallbackLocale: 'en',
  messages: { en } as Record<AppLocale, MessageSchema>,
  // German is complete (catalogue.test.ts): a fallback would be a bug of ours, not a user's concern.
  fallbackWarn: false,
  missingWarn: false,
});

type Named = Record<string, unknown>;

/** A message of the current language; `plural` picks the form ("1 snapshot | {n} snapshots"). */
export function t(key: MessageKey, named: Named = {}, plural?: number): string {
  const g = i18n.global as unknown as {
    t(key: string, named: Named): string;
    t(key: string, named: Named, plural: number): string;
  };
  return plural === undefined ? g.t(key, named) : g.t(key, named, plural);
}

/**
 * Words by id (states, device names…), each read in the current language when it is used: the map
 * can be a module constant and still follow a switch of language in templates and computeds.
 */
export function wordsOf<K extends string>(keys: Record<K, MessageKey>): Readonly<Record<K, string>> {
  const words = {} as Record<K, string>;
  for (const id of Object.keys(keys) as K[]) Object.defineProperty(words, id, { get: () => t(keys[id]), enumerable: true });
  return words;
}

/** The language shown now (reactive). */
export const currentLocale = computed<AppLocale>(() => i18n.global.locale.value);

/**
 * A layout figure that depends on the language (German words are longer: a form's label column is
 * wider), read in the current language.
 */
export function byLocale<T>(values: Record<AppLocale, T>): T {
  return values[currentLocale.value];
}

/** The user's choice in Preferences (reactive). */
export const languagePreference = ref<LanguagePreference>('system');

/** Element Plus's own strings (empty tables, message boxes' buttons…): undefined is its built-in English. */
export const elementLocale = shallowRef<Language | undefined>(undefined);

let generation = 0;

/** The core's messages in German (src-main/api/messages), fetched with the German catalogue. */
let coreGerman: Catalogue | null = null;
export const coreCatalogue = (): Catalogue | null => coreGerman;

/** Shows `locale`: its catalogue and Element Plus's strings fetched first if needed, then <html lang>. */
export async function showLocale(locale: AppLocale): Promise<void> {
  const mine = ++generation;
  let element: Language | undefined;
  if (locale === 'de') {
    const [messages, elementDe, core] = await Promise.all([
      import('./de'),
      import('./element-de'),
      import('../../src-main/api/messages/de/index'),
    ]);
    coreGerman = core.default;
    if (mine !== generation) return;
    if (!i18n.global.availableLocales.includes('de')) i18n.global.setLocaleMessage('de', messages.default);
    element = elementDe.default;
  }
  if (mine !== generation) return;
  elementLocale.value = element;
  i18n.global.locale.value = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

/** The language the preference means on this desktop. */
export function localeFor(preference: LanguagePreference): AppLocale {
  return resolveLocale(preference, navigatorLanguages());
}

/** Applies and remembers the user's choice: the UI switches at once, and stays so after a reload. */
export async function setLanguagePreference(preference: LanguagePreference): Promise<void> {
  languagePreference.value = preference;
  writeLanguagePreference(preference);
  await showLocale(localeFor(preference));
}

/**
 * At start (main.ts, before mounting): the stored choice, or the desktop's language. Other windows
 * of VMDesk (console windows) follow a change made in one of them; "System default" follows the
 * desktop's languages when they change.
 */
export async function setUpLanguage(): Promise<void> {
  languagePreference.value = readLanguagePreference();
  await showLocale(localeFor(languagePreference.value));
  if (typeof window === 'undefined') return;
  window.addEventListener('storage', (e) => {
    if (e.key !== LANGUAGE_STORAGE_KEY && e.key !== null) return;
    languagePreference.value = readLanguagePreference();
    void showLocale(localeFor(languagePreference.value));
  });
  window.addEventListener('languagechange', () => {
    if (languagePreference.value === 'system') void showLocale(localeFor('system'));
  });
}
