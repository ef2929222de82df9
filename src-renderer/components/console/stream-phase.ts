import { t, type MessageKey } from '../../i18n';

/** Where a console stream (serial or VNC WebSocket) stands, as shown to the user. */
export type StreamPhase = 'idle' | 'connecting' | 'open' | 'closed';

const CLOSE_CODES: Record<number, MessageKey> = {
  1000: 'console.close.code1000',
  1001: 'console.close.code1001',
  1006: 'console.close.code1006',
  1008: 'console.close.code1008',
  1011: 'console.close.code1011',
  1012: 'console.close.code1012',
  4503: 'console.close.code4503',
};

/** A WebSocket close event in words: the server's reason when it gave one (its own words), else what the code means. */
export function closeReasonText(code: number, reason: string): string {
  if (reason) return reason;
  const known = CLOSE_CODES[code];
  return known ? t(known) : t('console.close.other', { code: String(code) });
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
