import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import de, { areas, type Area } from './de/index.js';
import { extractAll, extractFromSource } from '../../i18n/extract-messages.js';
import { localiseMessage, placeholders } from './localise.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The area (German catalogue file) of a message, by where it is first met. */
function areaOf(at: string): Area {
  if (/^src-main\/core\/(storage|qemu|backup|snapshots)\//.test(at)) return 'storage';
  if (/^src-main\/core\/(portability|clone)\//.test(at)) return 'portability';
  if (/^src-main\/(core\/(migration|hosts|network)|server|api|cli)\//.test(at)) return 'remote';
  return 'machines';
}

describe("the core's messages in German", () => {
  const all = extractAll(ROOT);

  it('finds the messages of the core (several hundred)', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(all.map((m) => m.id)).toContain('No machine named "{0}"');
  });

  it('has every message in its area, with the same placeholders', () => {
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const m of all) {
      const area = areaOf(m.at);
      const german = areas[area][m.id];
      if (german === undefined) missing.push(`${area}: ${JSON.stringify(m.id)} (${m.at})`);
      else if (placeholders(german).join() !== placeholders(m.id).join()) wrong.push(`${JSON.stringify(m.id)} → ${JSON.stringify(german)}`);
    }
    // For translators: MESSAGES_MISSING=FILE writes what is left to translate there.
    if (process.env.MESSAGES_MISSING) fs.writeFileSync(process.env.MESSAGES_MISSING, `${missing.join('\n')}\n`);
    expect(missing, `not translated (${missing.length}):\n${missing.join('\n')}`).toEqual([]);
    expect(wrong, 'placeholders differ').toEqual([]);
  });

  it('recognises each message of the catalogue as itself, not as another', () => {
    // Each id with made-up values, as the core would word it: it comes back in its own German.
    const wrong: string[] = [];
    for (const [id, german] of Object.entries(de)) {
      const value = (n: string): string => `‹${n}›`;
      const sample = id.replace(/\{(\d+)\}/g, (_, n: string) => value(n));
      const expected = german.replace(/\{(\d+)\}/g, (_, n: string) => value(n));
      const got = localiseMessage(sample, de);
      if (got !== expected) wrong.push(`${JSON.stringify(id)}\n  gave ${JSON.stringify(got)}\n  not  ${JSON.stringify(expected)}`);
    }
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('holds no message the core no longer says, and each in one area only', () => {
    const ids = new Set(all.map((m) => m.id));
    const stale = Object.entries(areas).flatMap(([area, c]) =>
      Object.keys(c)
        .filter((id) => !ids.has(id))
        .map((id) => `${area}: ${id}`),
    );
    expect(stale).toEqual([]);
    const count = Object.values(areas).reduce((n, c) => n + Object.keys(c).length, 0);
    expect(count).toBe(Object.keys(de).length);
  });
});

describe('extractFromSource', () => {
  const ids = (source: string): string[] => extractFromSource('x.ts', source).map((m) => m.id);

  it('reads errors, progress lines, warnings, task titles and reasons; values become {n}', () => {
    expect(
      ids(`
        throw new VmdeskError('NOT_FOUND', \`No machine named "\${ref}" on \${host.name}\`);
        ctx.progress(0.5, 'Copying ' + file + ' now');
        warnings.push(\`\${name} kept\`);
        core.tasks.run(\`Clone "\${name}"\`, async () => 1);
        return { state: 'crashed', reason: \`QEMU \${how}\` };
      `),
    ).toEqual(['No machine named "{0}" on {1}', 'Copying {0} now', '{0} kept', 'Clone "{0}"', 'QEMU {0}']);
  });

  it('gives both texts of a condition; passes on values and texts already translated', () => {
    expect(ids(`new VmdeskError('IO', ok ? 'It worked' : \`It failed: \${why}\`)`)).toEqual(['It worked', 'It failed: {0}']);
    expect(ids(`new VmdeskError('IO', err.message); new VmdeskError('IO', t('cli.x')); new VmdeskError('IO', \`\${a}: \${b}\`)`)).toEqual(
      [],
    );
  });
});

describe('localiseMessage', () => {
  const catalogue = {
    'No machine named "{0}"': 'Keine Maschine namens „{0}“',
    '{0} is running': '{0} läuft',
    'Could not start {0}: {1}': '{0} konnte nicht starten: {1}',
    'Disk {0} of {1}': 'Platte {1} von {0}',
  };

  it('words a known message anew, its values kept, in the order of the translation', () => {
    expect(localiseMessage('No machine named "web 1"', catalogue)).toBe('Keine Maschine namens „web 1“');
    expect(localiseMessage('Disk 2 of 3', catalogue)).toBe('Platte 3 von 2');
  });

  it('translates a message inside another; the most literal id wins', () => {
    expect(localiseMessage('Could not start web: No machine named "x"', catalogue)).toBe(
      'web konnte nicht starten: Keine Maschine namens „x“',
    );
    expect(localiseMessage('No machine named "a is running"', catalogue)).toBe('Keine Maschine namens „a läuft“');
  });

  it('leaves an unknown message as it is, and translates a known line among others', () => {
    expect(localiseMessage('qemu-img: Could not open', catalogue)).toBe('qemu-img: Could not open');
    expect(localiseMessage('web is running\nqemu said so', catalogue)).toBe('web läuft\nqemu said so');
  });
});
