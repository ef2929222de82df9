/**
 * The core's messages in the user's language, gettext's way: the core words each message in English
 * (its id, see src-main/i18n/extract-messages.ts), and a catalogue maps that English, each value a {n}, to its translation.
 * A message that arrives here is recognised by its English (the values it holds are read out of it,
 * and translated too when they are messages themselves) and worded anew. A message the catalogue does
 * not hold (QEMU's or the system's own words) stays as it is. No Node here: the renderer uses it too.
 */
export type Catalogue = Readonly<Record<string, string>>;

interface Matcher {
  pattern: RegExp;
  names: string[];
  translation: string;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An English message as a pattern: its text literally, each {name} (here {0}, {1}, …) a capture in
 * `names`' order; {'@'} (vue-i18n's escape, in the renderer's catalogues) is the literal "@".
 */
export function messagePattern(message: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const m of message.matchAll(/\{'([^']*)'\}|\{(\w+)\}/g)) {
    source += escape(message.slice(last, m.index));
    if (m[1] !== undefined) source += escape(m[1]);
    else {
      names.push(m[2] ?? '');
      source += '(.*?)';
    }
    last = m.index + m[0].length;
  }
  source += escape(message.slice(last));
  return { pattern: new RegExp(`^${source}$`, 's'), names };
}

/** The placeholders of a message id or its translation, sorted: the same set on both sides. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\d+)\}/g)].map((m) => m[0]).sort();
}

const built = new WeakMap<Catalogue, Matcher[]>();

/** The catalogue's ids as patterns, the most literal first (so "{0} is running" loses to "No machine named {0}"). */
function matchers(catalogue: Catalogue): Matcher[] {
  let list = built.get(catalogue);
  if (!list) {
    const literal = (id: string): number => id.replace(/\{\d+\}/g, '').length;
    list = Object.entries(catalogue)
      .sort(([a], [b]) => literal(b) - literal(a))
      .map(([id, translation]) => ({ ...messagePattern(id), translation }));
    built.set(catalogue, list);
  }
  return list;
}

/** One message in the catalogue's language; its lines one by one if it is not one message whole. */
export function localiseMessage(message: string, catalogue: Catalogue, depth = 0): string {
  for (const { pattern, names, translation } of matchers(catalogue)) {
    const found = pattern.exec(message);
    if (!found) continue;
    return translation.replace(/\{(\d+)\}/g, (_, n: string) => {
      const value = found[names.indexOf(n) + 1] ?? '';
      return depth < 3 ? localiseMessage(value, catalogue, depth + 1) : value;
    });
  }
  if (depth === 0 && message.includes('\n')) {
    const lines = message.split('\n');
    const each = lines.map((line) => localiseMessage(line, catalogue, 1));
    if (each.some((line, i) => line !== lines[i])) return each.join('\n');
  }
  return message;
}
