/**
 * Files sent ahead of a live migration (boot files, snapshot images) as raw bytes on a unix socket
 * of the destination, forwarded through the SSH connection like the NBD and migration streams: no
 * base64, no JSON, no round trip per chunk. One connection per file: a header line (JSON: the
 * migration's token, the file's path in the machine folder, its size), the bytes, then the
 * destination's answer line, `ok` or `error: …`. The socket exists from prepare until start (files
 * come before QEMU), lives in the runtime dir (0700), and takes only the token of the migration it
 * was made for.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import { machineFolderFileSchema } from '../../api/migration.js';

/** A header longer than this is no header. */
const MAX_HEADER = 4096;
/** A file sent ahead is a boot file or a snapshot's image: generous, but not unbounded. */
const MAX_FILE_BYTES = 1024 ** 4;

const headerSchema = z
  .object({
    token: z.uuid(),
    file: machineFolderFileSchema,
    size: z.int().nonnegative().max(MAX_FILE_BYTES),
  })
  .strict();

export interface FileReceiver {
  socket: string;
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` for the files of one incoming migration: `open(file)` gives the path to
 * write (or throws: outside the folder, too late), `token` is the only one accepted.
 */
export async function receiveFiles(socketPath: string, token: string, open: (file: string) => Promise<string>): Promise<FileReceiver> {
  await fsp.rm(socketPath, { force: true });
  const connections = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => undefined);
    void receiveOne(conn, token, open).then(
      () => conn.end('ok\n'),
      (err: unknown) => conn.end(`error: ${(err instanceof Error ? err.message : String(err)).replaceAll('\n', ' ')}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await fsp.chmod(socketPath, 0o600);
  return {
    socket: socketPath,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const conn of connections) conn.destroy();
      await closed;
      await fsp.rm(socketPath, { force: true });
    },
  };
}

/** One file: the header checked, then exactly `size` bytes written to the path `open` gives. */
async function receiveOne(conn: net.Socket, token: string, open: (file: string) => Promise<string>): Promise<void> {
  const { header, rest } = await readHeader(conn);
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) throw new VmdeskError('INVALID_INPUT', 'Not a file of an incoming migration');
  if (parsed.data.token !== token) throw new VmdeskError('NOT_FOUND', 'No such incoming migration (it was finished or aborted)');
  const { file, size } = parsed.data;
  const out = fs.createWriteStream(await open(file));
  await new Promise<void>((resolve, reject) => {
    let received = 0;
    const done = (err?: Error): void => {
      conn.off('data', take);
      conn.off('end', ended);
      if (err) {
        out.destroy();
        reject(err);
      } else out.end(() => resolve());
    };
    const take = (chunk: Buffer): void => {
      const part = chunk.subarray(0, size - received);
      received += part.length;
      if (part.length > 0 && !out.write(part)) {
        conn.pause();
        out.once('drain', () => conn.resume());
      }
      if (received >= size) done();
    };
    const ended = (): void => done(new VmdeskError('INVALID_INPUT', `${file}: ${received} of ${size} bytes arrived`));
    out.on('error', (err) => done(err));
    conn.on('data', take);
    conn.on('end', ended);
    if (rest.length > 0 || size === 0) take(rest);
    conn.resume();
  });
}

/** The header line; the socket is left paused with what came after it in `rest`. */
function readHeader(conn: net.Socket): Promise<{ header: unknown; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const fail = (): void => {
      conn.off('data', onData);
      conn.off('end', fail);
      reject(new VmdeskError('INVALID_INPUT', 'Not a file of an incoming migration'));
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(0x0a);
      if (end === -1) {
        if (buffered.length > MAX_HEADER) fail();
        return;
      }
      conn.pause();
      conn.off('data', onData);
      conn.off('end', fail);
      try {
        resolve({ header: JSON.parse(buffered.subarray(0, end).toString('utf8')) as unknown, rest: buffered.subarray(end + 1) });
      } catch {
        reject(new VmdeskError('INVALID_INPUT', 'Not a file of an incoming migration'));
      }
    };
    conn.on('data', onData);
    conn.on('end', fail);
  });
}

/** Sends `source` as `file` of the migration `token` to the receiver reached at `socketPath`. */
export async function sendFileStream(socketPath: string, token: string, file: string, source: string): Promise<void> {
  const { size } = await fsp.stat(source);
  const conn = net.createConnection(socketPath);
  conn.on('error', () => undefined);
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    conn.on('data', (d: Buffer) => {
      text += d.toString('utf8');
    });
    conn.on('close', () => resolve(text));
    conn.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', reject);
  });
  conn.write(`${JSON.stringify({ token, file, size })}\n`);
  // A destination that refuses answers at once and closes: its answer, not the broken pipe, says why
  // (and without its `ok` nothing counts as sent).
  await pipeline(fs.createReadStream(source), conn, { end: false }).catch(() => undefined);
  const reply = (await answer).trim();
  if (reply !== 'ok')
    throw new VmdeskError('QEMU_FAILED', `Sending ${file} to the destination failed: ${reply.replace(/^error: /, '') || 'no answer'}`);
}
