// The page `vmdesk serve` makes around the window its server build draws: Accept-Language, the start's
// JSON inside a script element, the cut of index.html, and the windows kept drawn (a build of the
// renderer written here: what is tested is when this module draws, keeps and falls back, not Vue).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WINDOW_START_ID, type WindowStart } from '../api/window-start.js';
import { acceptedLanguages, cutTemplate, drawnRest, jsonForScript, WindowRenderer, type WindowApi } from './window-render.js';

const TEMPLATE =
  '<!doctype html><html lang="en"><head><script type="module" src="./assets/main.js"></script></head><body><div id="app"></div></body></html>';

describe('acceptedLanguages', () => {
  it('orders by q, then as sent, and drops q=0 and malformed tags', () => {
    expect(acceptedLanguages('fr;q=0.5, de-AT, en;q=0.9, xx;q=0, <script>, *')).toEqual(['de-AT', 'en', 'fr']);
    expect(acceptedLanguages(undefined)).toEqual([]);
    expect(acceptedLanguages('')).toEqual([]);
  });

  it('keeps at most 16 languages of at most 1 KiB of header', () => {
    expect(acceptedLanguages(Array.from({ length: 40 }, (_, i) => `l${String.fromCharCode(97 + (i % 26))}`).join(','))).toHaveLength(16);
    expect(acceptedLanguages(`${'x'.repeat(2000)},de`)).toEqual([]);
  });
});

describe('jsonForScript', () => {
  it('cannot end its script element, and reads back the same', () => {
    const value = { name: '</script><script>alert(1)</script><!-- & \u2028\u2029' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('cutTemplate and drawnRest', () => {
  const start = (locale: string): WindowStart => ({
    answers: { listMachines: [], host: null as never, listHosts: [], listTasks: [] },
    locale,
    listHeight: 1200,
  });

  it('puts the window in #app, its start after it, teleport targets at the end of the body, the language on <html>', () => {
    const parts = cutTemplate(TEMPLATE, 'de');
    expect(parts?.head).toBe(
      '<!doctype html><html lang="de"><head><script type="module" src="./assets/main.js"></script></head><body><div id="app">',
    );
    const rest = drawnRest(
      parts!,
      { html: '<main>W</main>', teleports: { '#el-popper-container-1024': '<!--v-if-->' }, locale: 'de' },
      start('de'),
    );
    expect(`${parts!.head}${rest}`).toBe(
      '<!doctype html><html lang="de"><head><script type="module" src="./assets/main.js"></script></head><body><div id="app"><main>W</main></div>' +
        `<script type="application/json" id="${WINDOW_START_ID}">${jsonForScript(start('de'))}</script>` +
        '<div id="el-popper-container-1024"><!--v-if--></div></body></html>',
    );
  });

  it('refuses a template without its #app or <html lang>, and a teleport to anything but an id', () => {
    expect(cutTemplate('<html lang="en"><body></body></html>', 'en')).toBeNull();
    expect(cutTemplate('<html><body><div id="app"></div></body></html>', 'en')).toBeNull();
    const parts = cutTemplate(TEMPLATE, 'en')!;
    expect(drawnRest(parts, { html: '', teleports: { 'body > div': 'x' }, locale: 'en' }, start('en'))).toBeNull();
  });

  it('writes only a language it knows on <html>', () => {
    expect(cutTemplate(TEMPLATE, '"><script>')?.head).toContain('<html lang="en">');
  });
});

describe('WindowRenderer', () => {
  let base: string;
  let calls: number;
  let answers: WindowApi;
  const warnings: string[] = [];
  const write = process.stderr.write.bind(process.stderr);

  /** A server build whose window says how many times it was drawn, or (`fail`) throws. */
  function writeBuild(fail = false): string {
    const dir = path.join(base, 'renderer-ssr');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'load.cjs'),
      `let n = 0;
module.exports = async () => ({
  windowLocale: (languages) => (languages[0] === 'de' ? 'de' : 'en'),
  windowKey: (languages) => languages.join(','),
  drawMainWindow: async (answers, languages) => {
    ${fail ? "throw new Error('the build broke');" : ''}
    n += 1;
    return { html: '<p>' + n + ' ' + answers.listMachines.length + ' ' + languages.join('+') + '</p>', teleports: {}, locale: 'en' };
  },
});
`,
    );
    return dir;
  }

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-wr-'));
    fs.mkdirSync(path.join(base, 'renderer'));
    fs.writeFileSync(path.join(base, 'renderer', 'index.html'), TEMPLATE);
    calls = 0;
    const list = (): Promise<never[]> => {
      calls += 1;
      return Promise.resolve([]);
    };
    answers = { listMachines: list, host: () => Promise.resolve(null as never), listHosts: list, listTasks: list };
    warnings.length = 0;
    process.stderr.write = (chunk: string) => (warnings.push(String(chunk)), true);
  });
  afterEach(() => {
    process.stderr.write = write;
    fs.rmSync(base, { recursive: true, force: true });
  });

  const whole = async (r: WindowRenderer, languages?: string): Promise<string> => {
    const page = await r.page(languages);
    expect(page).not.toBeNull();
    return `${page!.head}${await page!.rest}`;
  };

  it('keeps the window drawn until the core changes, per set of languages', async () => {
    const r = new WindowRenderer(writeBuild(), path.join(base, 'renderer'), answers);
    expect(await whole(r, 'en')).toContain('<p>1 0 en</p>');
    expect(await whole(r, 'en')).toContain('<p>1 0 en</p>');
    expect(await whole(r, 'de')).toContain('<p>2 0 de</p>');
    expect(await whole(r, 'de')).toMatch(/<html lang="de">/);
    r.changed();
    expect(await whole(r, 'en')).toContain('<p>3 0 en</p>');
    expect(calls).toBe(9);
    r.close();
  });

  it('draws the kept windows again once the core is quiet', async () => {
    const r = new WindowRenderer(writeBuild(), path.join(base, 'renderer'), answers);
    await whole(r, 'en');
    r.changed();
    r.changed();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const page = await r.page('en');
    expect(await page!.rest).toBe('');
    expect(page!.head).toContain('<p>2 0 en</p>');
    r.close();
  });

  it('a change while drawing: the window drawn is not kept as current', async () => {
    const r = new WindowRenderer(writeBuild(), path.join(base, 'renderer'), {
      ...answers,
      listTasks: () => {
        r.changed();
        return Promise.resolve([]);
      },
    });
    expect(await whole(r, 'en')).toContain('<p>1 ');
    r.close();
    expect(await whole(r, 'en')).toContain('<p>2 ');
    r.close();
  });

  it('a failing build: the page as built after the head, and one warning', async () => {
    const r = new WindowRenderer(writeBuild(true), path.join(base, 'renderer'), answers);
    expect(await whole(r, 'en')).toBe(TEMPLATE);
    expect(await whole(r, 'en')).toBe(TEMPLATE);
    expect(warnings.join('')).toMatch(/^warning: the main window is drawn by the page \(the server could not: the build broke\)\n$/);
  });

  it('no build, or a renderer whose index.html has no #app: null (the page is served as built)', async () => {
    expect(await new WindowRenderer(path.join(base, 'none'), path.join(base, 'renderer'), answers).page('en')).toBeNull();
    fs.writeFileSync(path.join(base, 'renderer', 'index.html'), '<!doctype html><title>VMDesk</title>');
    expect(await new WindowRenderer(writeBuild(), path.join(base, 'renderer'), answers).page('en')).toBeNull();
  });
});
