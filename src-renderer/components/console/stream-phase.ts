/** Where a console stream (serial or VNC WebSocket) stands, as shown to the user. */
export type StreamPhase = 'idle' | 'connecting' | 'open' | 'closed';

const CLOSE_CODES: Record<number, string> = {
  1000: 'closed',
  1001: 'the server went away',
  1006: 'the connection was lost',
  1008: 'access refused',
  1011: 'server error',
  1012: 'the server restarted',
  4503: 'the link to the remote host dropped',
};

/** A WebSocket close event in words: the server's reason when it gave one, else what the code means. */
export function closeReasonText(code: number, reason: string): string {
  if (reason) return reason;
  return CLOSE_CODES[code] ?? `closed (code ${code})`;
}

/**
 * Close codes of a remote console whose SSH link dropped (4503 from the server, 1011 when the
 * forward broke) or whose WebSocket died without a word (1006): worth reopening once the link is back.
 */
export function isLinkLoss(code: number): boolean {
  return code === 4503 || code === 1011 || code === 1006;
}

export interface Retry {
  /** Runs the action after the next delay (1 s, doubling to 15 s); one at a time. */
  schedule(): void;
  /** Forgets a scheduled run. */
  cancel(): void;
  /** Back to the shortest delay (a connection opened). */
  reset(): void;
}

export function createRetry(action: () => void, firstMs = 1000, maxMs = 15_000): Retry {
  let delay = firstMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  return {
    schedule() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        action();
      }, delay);
      delay = Math.min(delay * 2, maxMs);
    },
    cancel,
    reset() {
      cancel();
      delay = firstMs;
    },
  };
}
