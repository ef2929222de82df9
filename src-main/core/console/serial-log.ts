/**
 * Waiting for text on a serial console by following QEMU's own serial log (inotify, not polling):
 * it needs no console connection, so it works beside any number of viewers.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';

export interface WaitOptions {
  timeoutMs: number;
  /** Called when the log changes; return false to stop waiting because the machine went away. */
  isRunning?: () => boolean;
  signal?: AbortSignal;
}

export async function waitForLogText(file: string, fromOffset: number, text: string, options: WaitOptions): Promise<void> {
  const needle = Buffer.from(text, 'utf8');
  if (needle.length === 0) throw new VmdeskError('INVALID_INPUT', 'The text to wait for must not be empty');
  let offset = fromOffset;
  let carry = Buffer.alloc(0);
  let watcher: fs.FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      let reading = false;
      let again = false;
      const scan = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            const handle = await fsp.open(file, 'r').catch(() => null);
            if (!handle) continue;
            try {
              const { size } = await handle.stat();
              if (size < offset) offset = 0;
              if (size > offset) {
                const chunk = Buffer.alloc(size - offset);
                await handle.read(chunk, 0, chunk.length, offset);
                offset = size;
                const haystack = Buffer.concat([carry, chunk]);
                if (haystack.includes(needle)) {
                  resolve();
                  return;
                }
                carry = haystack.subarray(Math.max(0, haystack.length - needle.length + 1));
              }
            } finally {
              await handle.close();
            }
          } while (again);
          if (options.isRunning && !options.isRunning())
            reject(new VmdeskError('INVALID_STATE', 'The machine stopped before the text appeared'));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        } finally {
          reading = false;
        }
      };
      timer = setTimeout(() => {
        void lastLine(file).then((line) =>
          reject(
            new VmdeskError(
              'TIMEOUT',
              `"${text}" did not appear within ${Math.round(options.timeoutMs / 1000)} s` +
                (line ? `; the console's last line: ${line}` : '; the console printed nothing'),
            ),
          ),
        );
      }, options.timeoutMs);
      options.signal?.addEventListener('abort', () => reject(new VmdeskError('CANCELLED', 'Cancelled')));
      const dir = file.slice(0, file.lastIndexOf('/'));
      // Watch the folder: the log file may not exist yet, and inotify on it would miss its creation.
      watcher = fs.watch(dir, () => void scan());
      void scan();
    });
  } finally {
    (watcher as fs.FSWatcher | null)?.close();
    if (timer) clearTimeout(timer);
  }
}

/**
 * The last line the guest printed, without terminal control sequences: what a user who waited in
 * vain wants to see first (a kernel panic, a login prompt other than the one expected).
 */
async function lastLine(file: string): Promise<string> {
  const handle = await fsp.open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(Math.min(size, 4096));
    await handle.read(tail, 0, tail.length, size - tail.length);
    const lines = tail
      .toString('utf8')
      .replace(/\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]/g, '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return (lines.at(-1) ?? '').slice(0, 200);
  } finally {
    await handle.close();
  }
}
