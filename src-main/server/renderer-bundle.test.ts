import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INITIAL_BUDGET, bundleProblems, readRendererBundle, totalBytes } from './renderer-bundle.js';
import { findRendererDir } from './static-files.js';

const repo = path.resolve(import.meta.dirname, '../..');
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A built renderer of the given files (name → content) and index.html head. */
function fakeRenderer(head: string, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-bundle-'));
  temps.push(dir);
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><html><head>${head}</head><body><div id="app"></div></body></html>`);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'assets', name), text);
  return dir;
}

describe('the renderer bundle check', () => {
  it('counts what index.html loads first apart from the chunks loaded on demand', () => {
    const dir = fakeRenderer(
      '<script type="module" crossorigin src="./assets/main-1.js"></script><link rel="modulepreload" crossorigin href="./assets/dep-2.js"><link rel="stylesheet" crossorigin href="./assets/main-3.css">',
      {
        'main-1.js': 'a'.repeat(100),
        'dep-2.js': 'b'.repeat(50),
        'main-3.css': 'c'.repeat(30),
        'Dialog-4.js': 'd'.repeat(1000),
        'Dialog-5.css': 'e'.repeat(7),
      },
    );
    const bundle = readRendererBundle(dir);
    expect(bundle.initial.js.map((f) => f.file)).toEqual(['assets/main-1.js', 'assets/dep-2.js']);
    expect(totalBytes(bundle.initial.js)).toBe(150);
    expect(totalBytes(bundle.initial.css)).toBe(30);
    expect(totalBytes(bundle.all.js)).toBe(1150);
    expect(totalBytes(bundle.all.css)).toBe(37);
    expect(bundleProblems(dir)).toEqual([]);
  });

  it('fails a first load over budget, or one that holds Element Plus whole', () => {
    const dir = fakeRenderer('<script type="module" src="./assets/main.js"></script><link rel="stylesheet" href="./assets/main.css">', {
      'main.js': `const ElDatePicker=\`ElDatePicker\`;${'x'.repeat(INITIAL_BUDGET.js)}`,
      'main.css': 'y'.repeat(INITIAL_BUDGET.css + 1),
    });
    const problems = bundleProblems(dir);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/bytes of JS, over its budget/);
    expect(problems.join('\n')).toMatch(/bytes of CSS, over its budget/);
    expect(problems.join('\n')).toMatch(/assets\/main\.js holds ElDatePicker: Element Plus is imported whole/);
  });

  it('passes the built renderer: Element Plus on demand, the first load within budget', () => {
    const dir = findRendererDir(import.meta.dirname);
    expect(fs.existsSync(path.join(dir, 'index.html')), `${dir} is not built: npm run build`).toBe(true);
    expect(bundleProblems(dir)).toEqual([]);
    // The dialogs, the wizard, Settings, the console and the graphs are chunks of their own.
    const bundle = readRendererBundle(dir);
    expect(bundle.all.js.length).toBeGreaterThan(bundle.initial.js.length + 10);
  });
});

describe('src-renderer/element-styles.ts', () => {
  const rendererSrc = path.join(repo, 'src-renderer');
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return sources(p);
      return /\.(vue|ts)$/.test(e.name) && !e.name.endsWith('.test.ts') ? [p] : [];
    });
  const kebab = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

  it('loads the style of every Element Plus component the renderer uses', () => {
    const used = new Set<string>();
    for (const file of sources(rendererSrc)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/<el-([a-z-]+)/g)) used.add(m[1]!);
      if (/\sv-loading=/.test(text)) used.add('loading');
      for (const m of text.matchAll(/import \{([^}]*)\} from 'element-plus'/g))
        for (const name of m[1]!.split(',').map((s) => s.trim())) if (/^El[A-Z]/.test(name)) used.add(kebab(name.slice(2)));
    }
    expect(used.size).toBeGreaterThan(20);
    const styles = fs.readFileSync(path.join(rendererSrc, 'element-styles.ts'), 'utf8');
    const missing = [...used].filter((c) => !styles.includes(`'element-plus/es/components/${c}/style/css'`));
    expect(missing, 'add these to src-renderer/element-styles.ts').toEqual([]);
  });
});
