import './lib/zod-jitless';
// Before the rest: its WebSocket then opens while the window's modules are evaluated.
import { apiReady, connectionState, giveAnswers } from './api/client';
import './element-styles';
import 'element-plus/theme-chalk/dark/css-vars.css';
import './styles.css';
import { createVmdeskApp } from './app';
import { followSystemColorScheme } from './lib/theme';
import { setUpLanguage, showLocale } from './i18n';
import { menuFollowsLanguage } from './lib/menu-language';
import { route } from './lib/route';
import { catchUpMainWindowData, loadMainWindowData } from './lib/main-window-data';
import { readWindowStart } from './lib/window-start';
import { assumeListHeight } from './composables/useVirtualRows';
import { retryFailedStylesheets } from './lib/stylesheet-retry';
import type { AppLocale } from './i18n/language';

followSystemColorScheme();
retryFailedStylesheets(window);
const mainWindow = route.value.name !== 'console';
// The main window `vmdesk serve` drew, with what it was drawn from (src-main/server/window-render.ts).
const start = mainWindow ? readWindowStart(document) : null;
const { app } = createVmdeskApp({ serverDrawn: start !== null });

if (start) {
  // Take the drawn window over from the same state, without waiting for the connection: the answers
  // it was drawn from, its language, its list's height. Then ask again once connected (catch up).
  giveAnswers(start.answers);
  assumeListHeight(start.listHeight);
  await showLocale(start.locale as AppLocale);
  await loadMainWindowData();
  app.mount('#app');
  void apiReady().then(() => (connectionState() === 'open' ? catchUpMainWindowData() : undefined));
  // The user's own choice of language, if it is not the one drawn: the window switches now.
  await setUpLanguage();
} else {
  // The main window's machines are asked for before the window is built, once the API's connection
  // is open: the core reads the library while the page mounts the window, not after (issue 12).
  if (mainWindow) void loadMainWindowData();
  // The language first (German fetched if it is the one shown), so the first paint is in it.
  await Promise.all([setUpLanguage(), apiReady()]);
  app.mount('#app');
}
performance.mark('vmdesk-mounted');
menuFollowsLanguage();
