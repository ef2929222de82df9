/** Where a console stream (serial or VNC WebSocket) stands, as shown to the user. */
export type StreamPhase = 'idle' | 'connecting' | 'open' | 'closed';

const CLOSE_CODES: Record<number, string> = {
  1000: 'closed',
  1001: 'the server went away',
  1006: 'the connection was lost',
  1008: 'access refused',
  1011: 'server error',
  1012: 'the server restarted',
};

/** A WebSocket close event in words: the server's reason when it gave one, else what the code means. */
export function closeReasonText(code: number, reason: string): string {
  if (reason) return reason;
  return CLOSE_CODES[code] ?? `closed (code ${code})`;
}
