/**
 * The catalogues kept honest: German has exactly the English keys (also a type error in ./de), every
 * message parses as vue-i18n's syntax, both languages ask for the same placeholders and plural forms,
 * every key is used somewhere and every <i18n-t keypath> names a key that exists.
 */
import { describe, expect, it } from 'vitest';
import { createParser, type MessageNode, type ResourceNode } from '@intlify/message-compiler';
import en from './en';
import de from './de';

type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = `${prefix}${k}`;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, `${key}.`)) out.set(kk, vv);
  }
  return out;
}

/**
 * Messages German writes exactly as English does, reviewed one by one: names (of the product, of
 * operating systems and devices, of the languages themselves) and words German uses as they are.
 */
const SAME_IN_GERMAN = new Set([
  'common.appName',
  'console.windowTitle',
  'dialogs.addHost.commandPlaceholder',
  'dialogs.addHost.libraryPlaceholder',
  'dialogs.addHost.name',
  'dialogs.addHost.port',
  'dialogs.import.name',
  'errors.passphrase.placeholder',
  'machine.display.cirrus',
  'machine.os.linux',
  'machine.os.windows',
  'machine.summary.firmware',
  'machine.summary.initrd',
  'machine.summary.kernel',
  'machine.summary.name',
  'machine.summary.port1',
  'machine.summary.system',
  'main.host.host',
  'main.list.hostRow',
  'main.list.localHostRow',
  'main.log.kinds.qemu',
  'main.menu.host',
  'main.tabs.details',
  'main.tasks.details',
  'migration.live',
  'migration.offline',
  'performance.memoryBlock.minimum',
  'preferences.names.de',
  'preferences.names.en',
  'settings.general.name',
  'settings.network.adapter',
  'settings.network.model.e1000',
  'settings.network.model.rtl8139',
  'settings.network.ruleNameColumn',
  'settings.schedule.describe.cron',
  'settings.storage.format',
  'settings.tabs.system',
  'snapshots.kind.live',
  'snapshots.name',
  'wizard.hardware.firmware',
  'wizard.hardware.passphrase',
  'wizard.media.initrdExample',
  'wizard.name.host',
  'wizard.name.name',
  'wizard.steps.hardware',
]);

const EN = leaves(en);
const DE = leaves(de);

// NodeTypes of @intlify/message-compiler (a const enum, not importable at run time).
const PLURAL = 1;
const NAMED = 4;
const LIST = 5;
const LINKED = 6;

function parse(source: string): { ast: ResourceNode; errors: string[] } {
  const errors: string[] = [];
  const ast = createParser({ onError: (e) => errors.push(e.message) }).parse(source);
  return { ast, errors };
}

const isPlural = (ast: ResourceNode): boolean => (ast.body.type as number) === PLURAL;

function cases(ast: ResourceNode): MessageNode[] {
  const body = ast.body as MessageNode | { cases: MessageNode[] };
  return 'cases' in body ? body.cases : [body];
}

function kinds(ast: ResourceNode): Set<number> {
  return new Set(cases(ast).flatMap((c) => c.items.map((i) => i.type as number)));
}

function placeholders(ast: ResourceNode): string[] {
  const names = new Set<string>();
  for (const c of cases(ast)) for (const i of c.items) if ((i.type as number) === NAMED) names.add(String((i as { key: string }).key));
  // The plural's own count, given by vue-i18n whether or not a form shows it.
  names.delete('n');
  names.delete('count');
  return [...names].sort();
}

// Every source of the renderer but the catalogues and the tests (Vite's glob: the renderer's tests import nothing of Node).
const files = import.meta.glob<string>(['../**/*.vue', '../**/*.ts', '!../**/*.test.ts', '!./en/**', '!./de/**'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
const code = Object.values(files).join('\n');

describe('the German catalogue', () => {
  it('has every English key, and no other', () => {
    expect(
      [...DE.keys()].filter((k) => !EN.has(k)),
      'keys only in German',
    ).toEqual([]);
    expect(
      [...EN.keys()].filter((k) => !DE.has(k)),
      'keys missing in German',
    ).toEqual([]);
  });

  it('asks for the same placeholders and the same number of plural forms as English', () => {
    const differ: string[] = [];
    for (const [key, source] of EN) {
      const a = parse(source).ast;
      const b = parse(DE.get(key) ?? '').ast;
      if (placeholders(a).join() !== placeholders(b).join())
        differ.push(`${key}: {${placeholders(a).join()}} vs {${placeholders(b).join()}}`);
      if (cases(a).length !== cases(b).length) differ.push(`${key}: ${cases(a).length} vs ${cases(b).length} plural forms`);
    }
    expect(differ).toEqual([]);
  });

  it('is translated: no message is left in English but the words German shares, each listed here', () => {
    const same = [...EN]
      .filter(([key, text]) => DE.get(key) === text && /[a-z]{3}/.test(text.replace(/\{[^}]*\}/g, '')))
      .map(([key]) => key);
    expect(same.filter((k) => !SAME_IN_GERMAN.has(k))).toEqual([]);
    // A word of the list that German now translates is no longer "the same": the list stays true.
    expect([...SAME_IN_GERMAN].filter((k) => !same.includes(k))).toEqual([]);
  });
});

describe.each([
  ['English', EN],
  ['German', DE],
])('%s messages', (_name, messages) => {
  it('parse as vue-i18n messages, with no linked (@:) or list ({0}) parts: "@" and "|" of plain text are escaped', () => {
    const bad: string[] = [];
    for (const [key, source] of messages) {
      const { ast, errors } = parse(source);
      if (errors.length) bad.push(`${key}: ${errors.join('; ')}`);
      else if (kinds(ast).has(LINKED) || kinds(ast).has(LIST)) bad.push(`${key}: a linked message or a list placeholder`);
    }
    expect(bad).toEqual([]);
  });

  it('have plural forms exactly where the key says so (…Count)', () => {
    const bad = [...messages].filter(([key, source]) => isPlural(parse(source).ast) !== key.endsWith('Count')).map(([k]) => k);
    expect(bad).toEqual([]);
  });
});

describe('the renderer’s use of the catalogue', () => {
  it('uses every key (a key no code names is a leftover)', () => {
    expect(Object.keys(files).length).toBeGreaterThan(100);
    const unused = [...EN.keys()].filter((key) => {
      if (code.includes(`'${key}'`) || code.includes(`"${key}"`)) return false;
      // The API's refusals are matched as a whole, by i18n/core-messages.ts.
      if (key.startsWith('core.') && code.includes('en.core')) return false;
      // A key chosen at run time: `area.group.${id}` names every key of its group.
      const parent = key.slice(0, key.lastIndexOf('.'));
      return !code.includes(`\`${parent}.\${`);
    });
    expect(unused).toEqual([]);
  });

  it('names only keys that exist in <i18n-t keypath>', () => {
    const paths = [...code.matchAll(/<i18n-t[^>]*\skeypath="([\w.]+)"/g)].map((m) => m[1] ?? '');
    expect(paths.filter((p) => !EN.has(p))).toEqual([]);
  });
});
