/**
 * What `vmdesk serve` puts into the main window's page when it renders the window itself (Vue's
 * server renderer, src-main/server/window-render.ts): the answers the window asks for first, and
 * what the rendering assumed. The page reads it back (src-renderer/main.ts) so that its own first
 * render, which takes over the server's HTML (hydration), starts from the same state and draws the
 * same thing.
 */
import type { ApiResults } from './contract.js';

/** The four calls the main window makes before it can draw its list, on this computer, as answered. */
export const STARTING_CALLS = ['listMachines', 'host', 'listHosts', 'listTasks'] as const;
export type StartingCall = (typeof STARTING_CALLS)[number];
export type StartingAnswers = { [M in StartingCall]: ApiResults[M] };

export interface WindowStart {
  answers: StartingAnswers;
  /** The language the window was drawn in (the renderer's locale: 'en', 'de'). */
  locale: string;
  /** The machine list's height taken before the page is laid out: the rows drawn at first. */
  listHeight: number;
}

/** A window as the server draws it (src-renderer/entry-server.ts), for the page (src-main/server/window-render.ts). */
export interface DrawnWindow {
  /** The HTML of the window, for the page's `<div id="app">`. */
  html: string;
  /**
   * What its teleports drew, by target selector (Element Plus's popups go to
   * `#el-popper-container-1024`): the page must hold these targets with this content, at the end of
   * its body.
   */
  teleports: Record<string, string>;
  /** The language it is in. */
  locale: string;
}

/** What the server build (src-renderer/entry-server.ts, built into dist/renderer-ssr) exports. */
export interface ServerBuild {
  drawMainWindow(answers: StartingAnswers, languages: readonly string[], listHeight: number): Promise<DrawnWindow>;
  /** The language a window for these languages is drawn in. */
  windowLocale(languages: readonly string[]): string;
  /** What a window drawn for these languages depends on (its language, the locale of its numbers): windows of one key are the same. */
  windowKey(languages: readonly string[]): string;
}

/** The id of the page's `<script type="application/json">` that carries the WindowStart. */
export const WINDOW_START_ID = 'vmdesk-start';
