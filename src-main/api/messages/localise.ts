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
  translation: string;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The placeholders of a message id or its translation, sorted: the same set on both sides. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\d+)\}/g)].map((m) => m[0]).sort();
}

const built = new WeakMap<Catalogue, Matcher[]>();

/** The catalogue's ids as patterns, the most literal first (so "{0} is running" loses to "No machine named {0}"). */
function matchers(catalogue: Catalogue): Matcher[] {
  let list = built.get(catalogue);
  if (!list) {
    list = Object.entries(catalogue)
      .map(([id, translation]) => {
        const literal = id.replace(/\{\d+\}/g, '').length;
        const source = id
          .split(/(\{\d+\})/)
          .map((part) => (/^\{\d+\}$/.test(part) ? `(?<p${part.slice(1, -1)}>.*?)` : escape(part)))
          .join('');
        return { pattern: new RegExp(`^${source}$`, 's'), translation, literal };
      })
      .sort((a, b) => b.literal - a.literal)
      .map(({ pattern, translation }) => ({ pattern, translation }));
    built.set(catalogue, list);
  }
  return list;
}

/** One message in the catalogue's language; its lines one by one if it is not one message whole. */
export function localiseMessage(message: string, catalogue: Catalogue, depth = 0): string {
  for (const { pattern, translation } of matchers(catalogue)) {
    const found = pattern.exec(message);
    if (!found) continue;
    const values = found.groups ?? {};
    return translation.replace(/\{(\d+)\}/g, (_, n: string) => {
      const value = values[`p${n}`] ?? '';
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
