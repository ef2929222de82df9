/**
 * The main window drawn by `vmdesk serve` itself, for a first load that carries the token: the page
 * arrives with the window in it, the machine list included, and the browser paints it before any
 * script has run; the page's script then takes that HTML over (Vue's hydration, src-renderer/main.ts)
 * from the same answers, which the page carries too (src-main/api/window-start.ts).
 *
 * The drawing is the renderer's own code, built for Node by Vite (src-renderer/entry-server.ts into
 * dist/renderer-ssr): the same components draw on both sides. Without that build, or if drawing
 * fails, the page is served as it is built and draws itself, as before.
 *
 * Only a request with the token gets a drawn window: it holds the machines' names and states, and the
 * page key (a cookie, which a guest's web server behind a port forward may receive: access.ts) opens
 * only what any page holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { VmdeskApi } from '../api/contract.js';
import {
  WINDOW_START_ID,
  type DrawnWindow,
  type ServerBuild,
  type StartingAnswers,
  type StartingCall,
  type WindowStart,
} from '../api/window-start.js';

/** What dist/renderer-ssr/entry-server.mjs exports (src-renderer/entry-server.ts). */
/**
 * The list's height the server draws for: it cannot know the window's, and a taller guess only draws
 * a few rows more than the screen shows (the page measures and corrects once it runs).
 */
export const DRAWN_LIST_HEIGHT = 1200;

/** What a window is drawn from: this computer's answers to the starting calls. */
export type WindowApi = Pick<VmdeskApi, StartingCall>;

const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;
const MAX_LANGUAGES = 16;

/** The languages of an Accept-Language header, best first (by q, then in order); malformed entries dropped. */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  const entries: { tag: string; q: number; at: number }[] = [];
  for (const [at, part] of header.slice(0, 1024).split(',').entries()) {
    const [tag = '', ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (LANGUAGE_TAG.test(tag) && q > 0) entries.push({ tag, q, at });
  }
  return entries
    .sort((a, b) => b.q - a.q || a.at - b.at)
    .slice(0, MAX_LANGUAGES)
    .map((e) => e.tag);
}

/**
 * JSON safe inside a `<script type="application/json">`: no `<` (a machine named `</script>` cannot
 * end the element), `>`, `&`, nor the two line separators that are not JSON's.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const APP_ELEMENT = '<div id="app"></div>';
const TELEPORT_TARGET = /^#[A-Za-z][\w-]*$/;

/** The built index.html cut where the window goes: what comes before (with the page's language) and after. */
export interface PageParts {
  head: string;
  tail: string;
}

/** null if the template is not what this expects (the page is then served as built). */
export function cutTemplate(template: string, locale: string): PageParts | null {
  const at = template.indexOf(APP_ELEMENT);
  if (at < 0 || !/<html lang="[^"]*"/.test(template) || !template.includes('</body>', at)) return null;
  return {
    head: `${template.slice(0, at).replace(/<html lang="[^"]*"/, `<html lang="${locale === 'de' ? 'de' : 'en'}"`)}<div id="app">`,
    tail: `</div>${template.slice(at + APP_ELEMENT.length)}`,
  };
}

/**
 * What follows the head: the drawn window, its start beside it, and the targets of its teleports
 * (with what they drew) at the end of the body; null if a teleport's target is not an id.
 */
export function drawnRest(parts: PageParts, drawn: DrawnWindow, start: WindowStart): string | null {
  let targets = '';
  for (const [target, html] of Object.entries(drawn.teleports)) {
    if (!TELEPORT_TARGET.test(target)) return null;
    targets += `<div id="${target.slice(1)}">${html}</div>`;
  }
  const script = `<script type="application/json" id="${WINDOW_START_ID}">${jsonForScript(start)}</script>`;
  const tail = parts.tail.replace('</div>', () => `</div>${script}`).replace('</body>', () => `${targets}</body>`);
  return `${drawn.html}${tail}`;
}

/**
 * A page on its way: the head, to send at once (the browser fetches the page's script and styles
 * while the window is drawn), and the rest once drawn. The rest is never a failure: if drawing
 * fails, it is the page as built, which draws itself.
 */
export interface PageInParts {
  head: string;
  rest: Promise<string>;
}

/** How long the core must be quiet (no event) before the kept windows are drawn again. */
const REDRAW_AFTER_QUIET_MS = 1000;
/** Windows kept drawn: one per language and locale of numbers asked for, the latest few. */
const KEPT = 4;

interface Kept {
  languages: string[];
  template: string;
  /** The core's event count when the answers it was drawn from were read. */
  generation: number;
  /** The whole page. */
  page: string;
}

export class WindowRenderer {
  private build: Promise<ServerBuild> | null = null;
  /** Events of the core seen: a window drawn from answers read before the last one is out of date. */
  private generation = 0;
  private readonly kept = new Map<string, Kept>();
  private redrawTimer: NodeJS.Timeout | null = null;
  private warned = false;

  /**
   * `serverBuildDir`: dist/renderer-ssr; `rendererDir`: dist/renderer (its index.html is the page);
   * `api`: this computer's answers.
   */
  constructor(
    private readonly serverBuildDir: string,
    private readonly rendererDir: string,
    private readonly api: WindowApi,
  ) {}

  /** Whether there is a server build to draw with. */
  available(): boolean {
    return fs.existsSync(this.entry());
  }

  /** dist/renderer-ssr/load.cjs imports entry-server.mjs (see scripts/build.mjs for why). */
  private entry(): string {
    return path.join(this.serverBuildDir, 'load.cjs');
  }

  private load(): Promise<ServerBuild> {
    this.build ??= Promise.resolve().then(() => (createRequire(import.meta.url)(this.entry()) as () => Promise<ServerBuild>)());
    this.build.catch(() => (this.build = null));
    return this.build;
  }

  /**
   * Loads the server build and draws the window for no language in particular, so that the first
   * page a user opens is ready (run once the server listens).
   */
  async warmUp(): Promise<void> {
    const page = await this.page(undefined);
    await page?.rest;
  }

  /**
   * The core changed (any event): the kept windows are out of date. They are drawn again once the core
   * has been quiet a moment, not at each event (a task's progress comes several times a second).
   */
  changed(): void {
    this.generation++;
    if (this.redrawTimer) clearTimeout(this.redrawTimer);
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = null;
      for (const k of [...this.kept.values()]) void this.draw(k.languages);
    }, REDRAW_AFTER_QUIET_MS);
    this.redrawTimer.unref();
  }

  close(): void {
    if (this.redrawTimer) clearTimeout(this.redrawTimer);
    this.redrawTimer = null;
  }

  /**
   * The page with the main window drawn from this computer's answers, in the languages of
   * `acceptLanguage`: kept drawn if nothing changed since, else drawn now; null when the page cannot be
   * made here (no server build, no index.html) and is served as built.
   */
  async page(acceptLanguage: string | undefined): Promise<PageInParts | null> {
    if (!this.available()) return null;
    const languages = acceptedLanguages(acceptLanguage);
    let build: ServerBuild;
    let template: string;
    try {
      [build, template] = await Promise.all([this.load(), this.template()]);
    } catch (err) {
      this.warn(err);
      return null;
    }
    const kept = this.kept.get(build.windowKey(languages));
    if (kept && kept.generation === this.generation && kept.template === template) return { head: kept.page, rest: Promise.resolve('') };
    const parts = cutTemplate(template, build.windowLocale(languages));
    if (!parts) return null;
    return { head: parts.head, rest: this.draw(languages, build, template, parts) };
  }

  private template(): Promise<string> {
    return fs.promises.readFile(path.join(this.rendererDir, 'index.html'), 'utf8');
  }

  /** Draws the window for `languages` and keeps it; the rest of the page after its head (as built if drawing fails). */
  private async draw(languages: string[], build?: ServerBuild, template?: string, parts?: PageParts | null): Promise<string> {
    const generation = this.generation;
    let key: string | null = null;
    try {
      build ??= await this.load();
      key = build.windowKey(languages);
      template ??= await this.template();
      parts ??= cutTemplate(template, build.windowLocale(languages));
      if (!parts) throw new Error('dist/renderer/index.html has no <div id="app"></div>');
      const [listMachines, host, listHosts, listTasks] = await Promise.all([
        this.api.listMachines(),
        this.api.host(),
        this.api.listHosts(),
        this.api.listTasks(),
      ]);
      const answers: StartingAnswers = { listMachines, host, listHosts, listTasks };
      const drawn = await build.drawMainWindow(answers, languages, DRAWN_LIST_HEIGHT);
      const rest = drawnRest(parts, drawn, { answers, locale: drawn.locale, listHeight: DRAWN_LIST_HEIGHT });
      if (rest === null) throw new Error(`a teleport to ${Object.keys(drawn.teleports).join(', ')}, which is not an element's id`);
      this.keep(key, { languages, template, generation, page: `${parts.head}${rest}` });
      return rest;
    } catch (err) {
      this.warn(err);
      if (key !== null) this.kept.delete(key);
      return parts?.tail ?? '</div></body></html>';
    }
  }

  private keep(key: string, kept: Kept): void {
    this.kept.delete(key);
    this.kept.set(key, kept);
    while (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value as string);
  }

  private warn(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    process.stderr.write(`warning: the main window is drawn by the page (the server could not: ${(err as Error).message})\n`);
  }
}
