/**
 * The sizes of a built renderer (dist/renderer): what the page loads before it can draw anything
 * (the entry script, its modulepreloads and stylesheets, as index.html names them) against everything
 * the build holds. Read by the build's budget check (scripts/build.mjs), its unit test and
 * bench/ui.mjs.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface BundleFile {
  /** Relative to the renderer folder, as index.html names it (`assets/index-….js`). */
  file: string;
  bytes: number;
}

export interface RendererBundle {
  /** Loaded by index.html itself: the entry script, its modulepreloads, its stylesheets. */
  initial: { js: BundleFile[]; css: BundleFile[] };
  /** Every script and stylesheet of the build, the chunks loaded on demand included. */
  all: { js: BundleFile[]; css: BundleFile[] };
}

/** Components of Element Plus that VMDesk never uses: one in the page's first scripts means the whole library came back. */
export const UNUSED_ELEMENT_COMPONENTS: readonly string[] = [
  'ElDatePicker',
  'ElColorPicker',
  'ElCarousel',
  'ElTransfer',
  'ElUpload',
  'ElCalendar',
];

/**
 * The largest first load allowed (bytes of JS, bytes of CSS). With Element Plus whole the page first
 * loaded 1.3 MB of JS and 383 kB of CSS; on demand about 0.5 MB and 0.2 MB (see bench/RESULTS.md).
 * The budget leaves room to grow, not to import a library whole.
 */
export const INITIAL_BUDGET = { js: 650_000, css: 270_000 } as const;

const sizeOf = (dir: string, file: string): BundleFile => ({ file, bytes: fs.statSync(path.join(dir, file)).size });
const normalise = (href: string): string => path.posix.normalize(href.replace(/^\.\//, ''));

export function readRendererBundle(dir: string): RendererBundle {
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const tags = html.match(/<(?:script|link)\b[^>]*>/g) ?? [];
  const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  const js: string[] = [];
  const css: string[] = [];
  for (const tag of tags) {
    const src = tag.startsWith('<script') ? attr(tag, 'src') : undefined;
    const rel = attr(tag, 'rel');
    const href = attr(tag, 'href');
    if (src) js.push(normalise(src));
    else if (href && rel === 'modulepreload') js.push(normalise(href));
    else if (href && rel === 'stylesheet') css.push(normalise(href));
  }
  const assets = fs.readdirSync(path.join(dir, 'assets')).map((f) => `assets/${f}`);
  return {
    initial: { js: js.map((f) => sizeOf(dir, f)), css: css.map((f) => sizeOf(dir, f)) },
    all: {
      js: assets.filter((f) => f.endsWith('.js')).map((f) => sizeOf(dir, f)),
      css: assets.filter((f) => f.endsWith('.css')).map((f) => sizeOf(dir, f)),
    },
  };
}

export const totalBytes = (files: readonly BundleFile[]): number => files.reduce((sum, f) => sum + f.bytes, 0);

/** What is wrong with a build's first load: over budget, or Element Plus whole in it. Empty when all is well. */
export function bundleProblems(dir: string, budget: { js: number; css: number } = INITIAL_BUDGET): string[] {
  const bundle = readRendererBundle(dir);
  const problems: string[] = [];
  const js = totalBytes(bundle.initial.js);
  const css = totalBytes(bundle.initial.css);
  if (js > budget.js) problems.push(`the first load has ${js} bytes of JS, over its budget of ${budget.js}`);
  if (css > budget.css) problems.push(`the first load has ${css} bytes of CSS, over its budget of ${budget.css}`);
  for (const { file } of bundle.initial.js) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const unused = UNUSED_ELEMENT_COMPONENTS.filter((name) => text.includes(name));
    if (unused.length > 0) problems.push(`${file} holds ${unused.join(', ')}: Element Plus is imported whole`);
  }
  return problems;
}
