/**
 * The renderer's Vue application, made alike in the page (main.ts) and on the server that draws the
 * main window (entry-server.ts): the same components, stores and translations on both sides.
 */
import { createApp, createSSRApp, type App as VueApp } from 'vue';
import { createPinia, type Pinia } from 'pinia';
import { ID_INJECTION_KEY, ZINDEX_INJECTION_KEY } from 'element-plus';
import App from './App.vue';
import { i18n } from './i18n';

/** `serverDrawn`: the app takes over HTML the server drew (Vue's hydration) rather than drawing anew. */
export function createVmdeskApp(options: { serverDrawn: boolean }): { app: VueApp; pinia: Pinia } {
  const pinia = createPinia();
  const app = (options.serverDrawn ? createSSRApp : createApp)(App).use(pinia).use(i18n);
  // Element Plus numbers the ids it makes (a collapse's aria-controls…) from here: a fixed start, so
  // that the server and the page count alike (a random prefix by default). Its boxes made outside the
  // app (ElMessageBox) keep their own random prefix: no id is made twice.
  app.provide(ID_INJECTION_KEY, { prefix: 1024, current: 0 });
  // Its popups' z-index: one counter per window drawn on the server; in the page, the counter of the
  // whole page (the default), which the boxes made outside the app share, so that the last opened is
  // on top. Both start at 0, and drawing the window opens no popup.
  if (typeof window === 'undefined') app.provide(ZINDEX_INJECTION_KEY, { current: 0 });
  return { app, pinia };
}
