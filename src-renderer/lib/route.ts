import { readonly, ref } from 'vue';
import { parseRoute, type Route } from './console-route';

export { consoleHref, consoleWindowName, parseRoute, type Route } from './console-route';

const current = ref<Route>(parseRoute(window.location.hash));
window.addEventListener('hashchange', () => {
  current.value = parseRoute(window.location.hash);
});

export const route = readonly(current);
