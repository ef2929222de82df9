/**
 * Every language's catalogue, and the keys: English is the source, and a catalogue of another
 * language has the type of the English one, so a missing or a stray key is a type error
 * (catalogues.test.ts also checks that each key asks for the same {{variables}}).
 */
import { en } from './en/index.js';
import { de } from './de/index.js';
import type { Language } from './language.js';

/** A catalogue's shape: the English one's keys, each with a text of its own. */
export type Catalogue = Texts<typeof en>;
type Texts<T> = { [K in keyof T]: T[K] extends string ? string : Texts<T[K]> };

type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];
/** A plural's keys end in _one and _other; t() is called with the key before them and a count. */
type WithoutPlural<K extends string> = K extends `${infer Base}_${'one' | 'other'}` ? Base : K;

/** A text's key: "cli.list.description". */
export type Key = WithoutPlural<Leaves<typeof en>>;

export const catalogues: Record<Language, Catalogue> = { en, de };
