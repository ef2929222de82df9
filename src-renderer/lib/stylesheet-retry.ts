/**
 * A pane or dialog loaded on demand brings its stylesheet as a `<link>` that Vite's loader adds. When
 * that request fails (a connection reset while `vmdesk serve` is busy, say), Vite's loader rejects
 * the whole import, and the pane never opens although its code arrived. Here a failed stylesheet is
 * asked for again (up to `tries` times, a moment apart) while the pane opens; a failed script still
 * fails its import, as it must.
 */
const CSS_FAILURE = /^Unable to preload CSS for (\S+)/;

/** The stylesheet a Vite preload error is about, or null (a script, or another error). */
export function stylesheetFailure(payload: unknown): string | null {
  const message = payload instanceof Error ? payload.message : String(payload);
  return CSS_FAILURE.exec(message)?.[1] ?? null;
}

type PreloadError = Event & { payload?: unknown };

export function retryFailedStylesheets(win: Pick<Window, 'addEventListener' | 'setTimeout' | 'document'>, tries = 3, delayMs = 500): void {
  const attempts = new Map<string, number>();
  const ask = (href: string): void => {
    const link = win.document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    link.addEventListener('error', () => failed(href));
    win.document.head.appendChild(link);
  };
  const failed = (href: string): void => {
    const made = attempts.get(href) ?? 0;
    if (made >= tries) {
      console.error(`The stylesheet ${href} could not be loaded (${tries + 1} tries)`);
      return;
    }
    attempts.set(href, made + 1);
    console.warn(`Loading the stylesheet ${href} failed; asking for it again`);
    win.setTimeout(() => ask(href), delayMs);
  };
  win.addEventListener('vite:preloadError', (event: PreloadError) => {
    const href = stylesheetFailure(event.payload);
    if (!href) return;
    event.preventDefault();
    failed(href);
  });
}
