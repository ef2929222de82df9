import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogues } from './catalogues.js';
import { formatDateTime, formatNumber, formatSize, setLanguage, t, translator } from './i18n.js';

/** Every text of a catalogue by its dotted key. */
function texts(catalogue: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalogue)) {
    if (typeof value === 'string') out.set(`${prefix}${key}`, value);
    else for (const [k, v] of texts(value as object, `${prefix}${key}.`)) out.set(k, v);
  }
  return out;
}

const variables = (text: string): string[] => [...new Set([...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1] ?? ''))].sort();

describe('catalogues', () => {
  const en = texts(catalogues.en);
  const de = texts(catalogues.de);

  it('German has exactly the keys of English', () => {
    expect(en.size).toBeGreaterThan(400);
    expect([...de.keys()].sort()).toEqual([...en.keys()].sort());
  });

  it('each German text asks for the same {{variables}} as its English one', () => {
    const differ = [...en].filter(([key, text]) => variables(text).join() !== variables(de.get(key) ?? '').join());
    expect(differ.map(([key]) => key)).toEqual([]);
  });

  it('has no empty text, and no text left in English in the German catalogue but for borrowed words', () => {
    for (const [key, text] of [...en, ...de]) expect(text.trim(), key).not.toBe('');
    const untranslated = [...en].filter(([key, text]) => de.get(key) === text && /[a-z]{4,}\s+[a-z]{3,}/.test(text)).map(([key]) => key);
    expect(untranslated).toEqual([]);
  });

  it('uses i18next plural keys in pairs', () => {
    for (const key of en.keys()) {
      if (key.endsWith('_one')) expect(en.has(key.replace(/_one$/, '_other')), key).toBe(true);
      if (key.endsWith('_other')) expect(en.has(key.replace(/_other$/, '_one')), key).toBe(true);
    }
  });
});

describe('t and the formatters', () => {
  afterEach(() => setLanguage('en'));

  it('speaks the language set, English by default, and picks plural forms', () => {
    expect(t('cli.list.description')).toBe('list machines');
    expect(t('cli.format.portForwards', { count: 1 })).toBe('NAT (1 port forward)');
    setLanguage('de');
    expect(t('cli.list.description')).toBe('Maschinen auflisten');
    expect(t('cli.format.portForwards', { count: 2 })).toBe('NAT (2 Portweiterleitungen)');
    expect(t('cli.create.created', { name: 'a<b>', uuid: 'u', dir: '/x&y' })).toBe('a<b> (u) in /x&y erstellt');
  });

  it('gives a fixed language to the menu whatever the current one', () => {
    setLanguage('de');
    expect(translator('en')('menu.quit')).toBe('&Quit');
    expect(translator('de')('menu.quit')).toBe('&Beenden');
  });

  it('formats numbers and sizes with the decimal sign of the language, never grouped', () => {
    expect(formatNumber(1234.5, 1)).toBe('1234.5');
    expect(formatNumber(45.3)).toBe('45.3');
    expect(formatSize(1024 * 1024)).toBe('1.0 MiB');
    expect(formatSize(1536 * 1024 ** 3)).toBe('1.5 TiB');
    expect(formatSize(200)).toBe('200 bytes');
    setLanguage('de');
    expect(formatNumber(1234.5, 1)).toBe('1234,5');
    expect(formatNumber(45.3)).toBe('45,3');
    expect(formatSize(1024 * 1024)).toBe('1,0 MiB');
    expect(formatSize(1)).toBe('1 Byte');
    expect(formatSize(200)).toBe('200 Bytes');
  });

  it('formats a moment as the language writes dates', () => {
    const moment = '2026-11-25T12:00:00.000Z';
    const day = new Date(moment).getDate();
    expect(formatDateTime(moment)).toMatch(new RegExp(`^11/${day}/2026, \\d{1,2}:00:00 [AP]M$`));
    setLanguage('de');
    expect(formatDateTime(moment)).toMatch(new RegExp(`^${day}\\.11\\.2026, \\d{2}:00:00$`));
  });
});

describe('the i18n layer', () => {
  it('imports neither Electron nor the renderer, so the CLI and the core can use it', () => {
    const dir = import.meta.dirname;
    const sources = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      const imports = [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map(
        (m) => m[1] ?? '',
      );
      for (const source of imports) {
        expect(source, file).not.toMatch(/^electron|src-renderer|\.\.\/\.\.\//);
        // Node's own modules are there for the CLI and the core; the TypeScript compiler only for the
        // development-time reading of the core's messages.
        expect(source, file).toMatch(file === 'extract-messages.ts' ? /^(\.{1,2}\/|node:|typescript$)/ : /^(\.{1,2}\/|i18next$)/);
      }
    }
  });
});
