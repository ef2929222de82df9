import { readonly, ref } from 'vue';

/** The two screens, chosen by the URL hash: `#/` (manager) and `#/console/<uuid>`. */
export type Route = { name: 'main' } | { name: 'console'; uuid: string };

export function parseRoute(hash: string): Route {
  const match = /^#\/console\/([^/?#]+)/.exec(hash);
  if (match?.[1]) return { name: 'console', uuid: decodeURIComponent(match[1]) };
  return { name: 'main' };
}

const current = ref<Route>(parseRoute(window.location.hash));
window.addEventListener('hashchange', () => {
  current.value = parseRoute(window.location.hash);
});

export const route = readonly(current);

export function consoleHref(uuid: string): string {
  return `#/console/${encodeURIComponent(uuid)}`;
}
