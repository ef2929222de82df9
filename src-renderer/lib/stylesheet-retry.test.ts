import { describe, expect, it, vi } from 'vitest';
import { retryFailedStylesheets, stylesheetFailure } from './stylesheet-retry';

/** A window as far as the retry uses it: events, timers run at once, and links that load or fail as told. */
function fakeWindow(outcomes: boolean[]) {
  const target = new EventTarget();
  const asked: string[] = [];
  const win = {
    addEventListener: target.addEventListener.bind(target),
    setTimeout: (fn: () => void) => {
      fn();
      return 0;
    },
    document: {
      createElement: () => {
        const link = new EventTarget() as EventTarget & { rel: string; href: string };
        return link;
      },
      head: {
        appendChild: (link: EventTarget & { href: string }) => {
          asked.push(link.href);
          if (outcomes.shift() === false) link.dispatchEvent(new Event('error'));
        },
      },
    },
  };
  const preloadError = (message: string): Event => {
    const event = Object.assign(new Event('vite:preloadError', { cancelable: true }), { payload: new Error(message) });
    target.dispatchEvent(event);
    return event;
  };
  return { win: win as unknown as Window, asked, preloadError };
}

describe('stylesheets loaded on demand', () => {
  it("reads the stylesheet out of Vite's preload error, and nothing out of a script's", () => {
    expect(stylesheetFailure(new Error('Unable to preload CSS for http://127.0.0.1:1/assets/A-x.css'))).toBe(
      'http://127.0.0.1:1/assets/A-x.css',
    );
    expect(stylesheetFailure(new Error('Failed to fetch dynamically imported module: http://127.0.0.1:1/assets/A-x.js'))).toBeNull();
    expect(stylesheetFailure(undefined)).toBeNull();
  });

  it('asks again for a stylesheet that failed, and lets the import go on', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { win, asked, preloadError } = fakeWindow([true]);
    retryFailedStylesheets(win);
    const event = preloadError('Unable to preload CSS for /assets/H-1.css');
    expect(event.defaultPrevented).toBe(true);
    expect(asked).toEqual(['/assets/H-1.css']);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('gives up after its tries, saying so; a failed script is left to fail its import', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { win, asked, preloadError } = fakeWindow([false, false, false]);
    retryFailedStylesheets(win, 3);
    preloadError('Unable to preload CSS for /assets/H-2.css');
    expect(asked).toEqual(['/assets/H-2.css', '/assets/H-2.css', '/assets/H-2.css']);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/H-2\.css could not be loaded \(4 tries\)/));
    expect(preloadError('Failed to fetch dynamically imported module: /assets/H-2.js').defaultPrevented).toBe(false);
    warn.mockRestore();
    error.mockRestore();
  });
});
