import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  RENDERER_COMMANDS,
  buildMenuTemplate,
  isRendererCommand,
  menuCommands,
  unavailableLabel,
  type MenuEntry,
  type MenuSection,
} from './menu-template.js';

/** The command ids src-renderer/commands.ts declares, read from its source (it needs a DOM to import). */
function rendererCommandIds(): string[] {
  const source = fs.readFileSync(path.resolve(import.meta.dirname, '../../src-renderer/commands.ts'), 'utf8');
  const list = /export const COMMAND_IDS = \[([^\]]*)\]/.exec(source)?.[1];
  if (!list) throw new Error('COMMAND_IDS not found in src-renderer/commands.ts');
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
}

const plain = (label: string): string => label.replace(/&/g, '');
const section = (sections: MenuSection[], label: string): MenuEntry[] => sections.find((s) => plain(s.label) === label)?.entries ?? [];
function item(entries: MenuEntry[], label: string): MenuEntry | undefined {
  return entries.find((e) => (e.type === 'command' || e.type === 'unavailable') && plain(e.label).replace('…', '') === label);
}

describe('application menu template', () => {
  const sections = buildMenuTemplate({ isDev: false, language: 'en' });

  it('has File, Machine, View and Help, in that order', () => {
    expect(sections.map((s) => plain(s.label))).toEqual(['File', 'Machine', 'Host', 'View', 'Help']);
  });

  it('has every required item, with the required accelerators', () => {
    const file = section(sections, 'File');
    const machine = section(sections, 'Machine');
    for (const label of [
      'Preferences',
      'Import Appliance',
      'Export Appliance',
      'Virtual Media Manager',
      'Physical Disk to VM (P2V)',
      'Quit',
    ])
      expect(item(file, label), label).toBeDefined();
    for (const label of [
      'New',
      'Add',
      'Settings',
      'Clone',
      'Move',
      'Remove',
      'Start',
      'Pause',
      'Reset',
      'Shut Down',
      'Power Off',
      'Take Snapshot',
      'Save State',
      'Discard Saved State',
      'Write Disk Out (V2P)',
      'Show Log',
    ]) {
      expect(item(machine, label), label).toBeDefined();
    }
    expect(item(machine, 'New')).toMatchObject({ type: 'command', command: 'machine.new', accelerator: 'CmdOrCtrl+N' });
    expect(item(machine, 'Settings')).toMatchObject({ type: 'command', command: 'machine.settings', accelerator: 'CmdOrCtrl+S' });
    expect(item(file, 'Import Appliance')).toMatchObject({ type: 'command', command: 'file.import' });
    expect(item(file, 'Preferences')).toMatchObject({ type: 'command', command: 'file.preferences' });
    expect(item(file, 'Export Appliance')).toMatchObject({ type: 'command', command: 'machine.export' });
    expect(item(file, 'Virtual Media Manager')).toMatchObject({ type: 'command', command: 'file.media' });
    expect(item(machine, 'Clone')).toMatchObject({ type: 'command', command: 'machine.clone' });
    expect(item(machine, 'Move')).toMatchObject({ type: 'command', command: 'machine.move' });
    expect(item(machine, 'Take Snapshot')).toMatchObject({ type: 'command', command: 'machine.snapshot' });
    expect(item(file, 'Quit')).toMatchObject({ type: 'command', command: 'app.quit', accelerator: 'CmdOrCtrl+Q' });
    expect(item(section(sections, 'View'), 'Tasks')).toMatchObject({ command: 'view.tasks' });
    expect(item(section(sections, 'Help'), 'About VMDesk')).toMatchObject({ command: 'help.about' });
  });

  it('shows features that are not built yet as unavailable, never as commands', () => {
    const unavailable = sections.flatMap((s) =>
      s.entries.filter((e) => e.type === 'unavailable').map((e) => plain((e as { label: string }).label)),
    );
    expect(unavailable).toEqual(['Add…']);
    expect(unavailableLabel({ label: '&Add…', note: 'not available yet' })).toBe('&Add… (not available yet)');
  });

  it('sends only ids the renderer handles (src-renderer/commands.ts), each once', () => {
    const known = rendererCommandIds();
    expect(known).toContain('machine.new');
    for (const id of RENDERER_COMMANDS) expect(known, id).toContain(id);
    const used = menuCommands(sections);
    expect(new Set(used).size).toBe(used.length);
    for (const id of used) expect(isRendererCommand(id) || id === 'app.quit', id).toBe(true);
    expect(isRendererCommand('app.quit')).toBe(false);
  });

  it('leaves the keys the renderer binds itself unregistered, so they never fire twice', () => {
    const machine = section(sections, 'Machine');
    expect(item(machine, 'New')).toMatchObject({ rendererHandlesKey: true });
    expect(item(machine, 'Settings')).toMatchObject({ rendererHandlesKey: true });
    const accelerators = sections.flatMap((s) => s.entries.flatMap((e) => (e.type === 'command' && e.accelerator ? [e.accelerator] : [])));
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it('offers reload and developer tools only when unpackaged', () => {
    const roles = (isDev: boolean): string[] =>
      section(buildMenuTemplate({ isDev, language: 'en' }), 'View').flatMap((e) => (e.type === 'role' ? [e.role] : []));
    expect(roles(false)).not.toContain('toggleDevTools');
    expect(roles(false)).not.toContain('reload');
    expect(roles(true)).toEqual(expect.arrayContaining(['reload', 'forceReload', 'toggleDevTools']));
    for (const isDev of [false, true])
      expect(roles(isDev)).toEqual(expect.arrayContaining(['zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen']));
  });

  it('offers every renderer command it declares, as the in-page menu bar does', () => {
    const used = new Set(menuCommands(sections));
    for (const id of RENDERER_COMMANDS) expect(used.has(id), id).toBe(true);
    // MenuBar.vue (the browser's menu) lists the same renderer commands, bar the app's own Quit.
    const source = fs.readFileSync(path.resolve(import.meta.dirname, '../../src-renderer/components/main/MenuBar.vue'), 'utf8');
    const inPage = new Set(
      [...(/const MENUS[\s\S]*?\n\];/.exec(source)?.[0] ?? '').matchAll(/'([a-z]+\.[A-Za-z0-9]+)'/g)].map((m) => m[1]),
    );
    expect([...inPage].sort()).toEqual([...RENDERER_COMMANDS].sort());
  });

  it('never starts or ends a menu with a separator, nor doubles one', () => {
    for (const isDev of [false, true]) {
      for (const s of buildMenuTemplate({ isDev, language: 'de' })) {
        expect(s.entries[0]?.type, s.label).not.toBe('separator');
        expect(s.entries.at(-1)?.type, s.label).not.toBe('separator');
        s.entries.forEach((e, i) => {
          if (e.type === 'separator') expect(s.entries[i + 1]?.type).not.toBe('separator');
        });
      }
    }
  });

  describe('in every language', () => {
    /** The template's shape without its words: sections of command ids, roles and separators. */
    const shape = (built: MenuSection[]): string[][] =>
      built.map((s) => s.entries.map((e) => (e.type === 'command' ? e.command : e.type === 'role' ? e.role : e.type)));
    const labels = (built: MenuSection[]): string[] => [
      ...built.map((s) => s.label),
      ...built.flatMap((s) => s.entries.flatMap((e) => (e.type === 'separator' ? [] : [e.label]))),
    ];

    for (const isDev of [false, true]) {
      const en = buildMenuTemplate({ isDev, language: 'en' });
      const de = buildMenuTemplate({ isDev, language: 'de' });

      it(`has the same commands, roles and separators in German and English${isDev ? ' (unpackaged)' : ''}`, () => {
        expect(shape(de)).toEqual(shape(en));
        expect(menuCommands(de)).toEqual(menuCommands(en));
        expect(de.flatMap((s) => s.entries.flatMap((e) => (e.type === 'command' && e.accelerator ? [e.accelerator] : [])))).toEqual(
          en.flatMap((s) => s.entries.flatMap((e) => (e.type === 'command' && e.accelerator ? [e.accelerator] : []))),
        );
      });

      it(`labels every item in both languages, the German ones translated${isDev ? ' (unpackaged)' : ''}`, () => {
        for (const built of [en, de]) for (const label of labels(built)) expect(plain(label).trim(), label).not.toBe('');
        expect(labels(de)).toHaveLength(labels(en).length);
        // Every word differs, bar Host, which German borrows.
        const same = labels(de).filter((label, i) => label === labels(en)[i]);
        expect(same).toEqual(['H&ost']);
        expect(plain(de[0]?.label ?? '')).toBe('Datei');
        expect(de.flatMap((s) => s.entries).find((e) => e.type === 'command' && e.command === 'app.quit')).toMatchObject({
          label: '&Beenden',
        });
        expect(de.flatMap((s) => s.entries).find((e) => e.type === 'unavailable')).toMatchObject({ note: 'noch nicht verfügbar' });
      });

      it(`gives each label one access key, unique within its menu${isDev ? ' (unpackaged)' : ''}`, () => {
        for (const built of [en, de]) {
          const accessKeys = (menuLabels: string[]): string[] =>
            menuLabels.flatMap((label) => {
              const keys = [...label.matchAll(/&(.)/g)].map((m) => (m[1] ?? '').toLowerCase());
              expect(keys.length, label).toBeLessThanOrEqual(1);
              return keys;
            });
          const bar = accessKeys(built.map((s) => s.label));
          expect(new Set(bar).size, bar.join()).toBe(built.length);
          for (const s of built) {
            const keys = accessKeys(s.entries.flatMap((e) => (e.type === 'separator' ? [] : [e.label])));
            expect(new Set(keys).size, `${s.label}: ${keys.join()}`).toBe(keys.length);
          }
        }
      });
    }
  });
});
