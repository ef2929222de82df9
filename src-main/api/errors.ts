/**
 * Errors cross every boundary (IPC, WebSocket, CLI exit codes) as plain values recognised by
 * `code`, never by `instanceof` — the same idea as VS Code's errors-by-name.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 2,
  NOT_FOUND: 3,
  ALREADY_EXISTS: 4,
  INVALID_STATE: 5,
  LOCKED: 6,
  HOST_UNSUPPORTED: 7,
  QEMU_FAILED: 8,
  TIMEOUT: 9,
  IO: 10,
  CANCELLED: 11,
  /** A remote host cannot be reached or refused the login, or the link to it dropped. */
  UNREACHABLE: 12,
  /** A remote host's key is not known (confirm its fingerprint) or has changed (refused). */
  HOST_KEY: 13,
  INTERNAL: 1,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorShape {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class VmdeskError extends Error implements ErrorShape {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'VmdeskError';
    this.code = code;
    this.details = details;
  }

  toJSON(): ErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorShape(value: unknown): value is ErrorShape {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorShape).code === 'string' &&
    (value as ErrorShape).code in ERROR_CODES &&
    typeof (value as ErrorShape).message === 'string'
  );
}

/** Any thrown value as an ErrorShape; unknown errors become INTERNAL with their message kept. */
export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof VmdeskError) return err.toJSON();
  if (isErrorShape(err)) return err;
  if (err instanceof Error) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOSPC') return { code: 'IO', message: `No space left on device: ${err.message}` };
    if (errno === 'EACCES' || errno === 'EPERM') return { code: 'IO', message: `Permission denied: ${err.message}` };
    return { code: 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}

export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CODES[code];
}
