import { readonly, ref } from 'vue';
import { parseRoute, type Route } from './console-route';

export { consoleHref, consoleWindowName, parseRoute, type Route } from './console-route';

// On the server (`vmdesk serve` drawing the main window) there is no address: the main window's route.
const onServer = typeof window === 'undefined';
const current = ref<Route>(parseRoute(onServer ? '' : window.location.hash));
if (!onServer) {
  window.addEventListener('hashchange', () => {
    current.value = parseRoute(window.location.hash);
  });
}

export const route = readonly(current);
