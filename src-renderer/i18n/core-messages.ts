/**
 * The API's own refusals (src-main/api's schemas: "The name must not be empty") in the current
 * language. The renderer checks forms with the core's schemas and shows what the core answers, in
 * the core's English words; each of them is also in the catalogues' `core` area, the English there
 * word for word as in src-main/api (core-messages.test.ts holds them to it), so a message is
 * recognised by its English (a {placeholder} stands for what the core put in) and shown in German.
 * A message not in the table (an error the core meets while working) goes to the core's own
 * catalogue (src-main/api/messages), recognised the same way.
 */
import { localiseMessage, messagePattern } from '../../src-main/api/messages/localise';
import en from './en';
import { coreCatalogue, currentLocale, t, type MessageKey } from './index';

interface Matcher {
  key: MessageKey;
  pattern: RegExp;
  names: string[];
}

type Tree = { [key: string]: string | Tree };

let matchers: Matcher[] | null = null;

function build(tree: Tree, prefix: string): Matcher[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [{ key: `${prefix}${k}` as MessageKey, ...messagePattern(v) }] : build(v, `${prefix}${k}.`),
  );
}

/**
 * The core's message in the current language: one of the API's refusals (above), else one of the
 * messages the core words while working (src-main/api/messages: errors, task titles and progress,
 * warnings, reasons), else as it is (QEMU's or the system's own words).
 */
export function localizeApiMessage(message: string): string {
  if (currentLocale.value === 'en') return message;
  matchers ??= build(en.core, 'core.');
  for (const m of matchers) {
    const found = m.pattern.exec(message);
    if (found) return t(m.key, Object.fromEntries(m.names.map((name, i) => [name, found[i + 1] ?? ''])));
  }
  const core = coreCatalogue();
  return core ? localiseMessage(message, core) : message;
}
