/**
 * The main window drawn on the server: `vmdesk serve` loads this module's build (dist/renderer-ssr,
 * src-main/server/window-render.ts) and answers the page's first load with the window already in
 * it, the machine list included. The page then takes that HTML over (main.ts) instead of drawing it.
 */
import { renderToString, type SSRContext } from 'vue/server-renderer';
import type { DrawnWindow, ServerBuild, StartingAnswers } from '../src-main/api/window-start';
import { createVmdeskApp } from './app';
import { giveAnswers } from './api/client';
import { currentLocale, showLocale } from './i18n';
import { intlTag, resolveLocale, setRequestLanguages, type AppLocale } from './i18n/language';
import { assumeListHeight } from './composables/useVirtualRows';
import { loadMainWindowData } from './lib/main-window-data';

/** The language a window for these languages (Accept-Language's, best first) is drawn in. */
export function windowLocale(languages: readonly string[]): AppLocale {
  return resolveLocale('system', languages);
}

/** What a window drawn for these languages depends on: its language and the locale of its dates and numbers. */
export function windowKey(languages: readonly string[]): string {
  const locale = windowLocale(languages);
  return `${locale} ${intlTag(locale, languages)}`;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * The main window with the given answers, in the first of `languages` VMDesk speaks, its list as tall
 * as `listHeight`. One at a time: the answers, the language and the list's height are module state.
 */
export function drawMainWindow(answers: StartingAnswers, languages: readonly string[], listHeight: number): Promise<DrawnWindow> {
  const run = queue.then(() => draw(answers, languages, listHeight));
  queue = run.catch(() => undefined);
  return run;
}

async function draw(answers: StartingAnswers, languages: readonly string[], listHeight: number): Promise<DrawnWindow> {
  setRequestLanguages(languages);
  assumeListHeight(listHeight);
  await showLocale(windowLocale(languages));
  const { app, pinia } = createVmdeskApp({ serverDrawn: true });
  giveAnswers(answers);
  await loadMainWindowData(pinia);
  const context: SSRContext = {};
  const html = await renderToString(app, context);
  return { html, teleports: context.teleports ?? {}, locale: currentLocale.value };
}

// What the server loads: these exports, checked against the type it loads them as.
const exported: ServerBuild = { drawMainWindow, windowLocale, windowKey };
void exported;
