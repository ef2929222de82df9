/**
 * `vmdesk stdio`: what a VMDesk on another computer runs here over SSH. The API contract on stdin
 * and stdout, one JSON message per line — the very messages of the browser's WebSocket — after a
 * hello line saying which VMDesk and which API this is. Same dispatch, same validation, same events
 * as `vmdesk serve`: a remote machine is driven by the code that drives a local one.
 *
 * When the link drops (stdin ends, stdout breaks), the tasks this session started are cancelled —
 * a cancelled task undoes what it half-made — and the process exits once they have settled. The
 * machines run on: they are this host's processes, not this session's.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ApiEventMessage, ApiResponse, VmdeskApi } from '../api/contract.js';
import { dispatch } from '../api/dispatch.js';
import { VmdeskError, toErrorShape } from '../api/errors.js';
import { API_VERSION, OLDEST_REMOTE_API, VMDESK_VERSION, type RemoteHello } from '../api/hosts.js';
import type { TaskInfo } from '../api/types.js';
import type { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { parseRequest } from './api-socket.js';
import { noNativeMenu } from './front-end.js';

/** How long cancelled tasks get to undo their work before the process exits anyway. */
const SETTLE_MS = 120_000;

async function libraryWritable(home: string): Promise<{ writable: boolean; writableError?: string }> {
  try {
    await fs.mkdir(home, { recursive: true });
    const probe = path.join(home, `.vmdesk-write-test-${process.pid}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe, { force: true });
    return { writable: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { writable: false, writableError: e.code ? `${e.code}: ${e.message}` : e.message };
  }
}

export async function helloFor(core: Core): Promise<RemoteHello> {
  return {
    product: 'vmdesk',
    version: VMDESK_VERSION,
    api: API_VERSION,
    oldestClientApi: OLDEST_REMOTE_API,
    hostname: os.hostname(),
    home: core.library.home,
    ...(await libraryWritable(core.library.home)),
  };
}

function isRunningTask(value: unknown): value is TaskInfo {
  const t = value as TaskInfo | null;
  return typeof t === 'object' && t !== null && typeof t.id === 'string' && t.state === 'running' && typeof t.title === 'string';
}

export async function serveStdio(core: Core, input: Readable = process.stdin, output: Writable = process.stdout): Promise<void> {
  const service = new CoreService(core);
  const api: VmdeskApi = Object.assign(Object.create(service) as CoreService, {
    streamEndpoint: () =>
      Promise.reject(new VmdeskError('INVALID_STATE', 'Streams of a remote host are forwarded through its SSH connection (streamSocket)')),
    setMenuLanguage: noNativeMenu,
  });
  let open = true;
  const write = (message: ApiResponse | ApiEventMessage | { hello: RemoteHello }): void => {
    if (!open) return;
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (err) {
      if (!('id' in message)) return;
      text = JSON.stringify({ id: message.id, error: toErrorShape(err) });
    }
    output.write(text + '\n');
  };

  const hello = await helloFor(core);
  write({ hello });
  if (!hello.writable) return;

  const stopWatching = await core.watch();
  const unsubscribe = service.subscribe((event, data, host) => {
    // This host's own events only: a remote of a remote is not this session's business.
    if (host === undefined) write({ event, data });
  });
  const started = new Set<string>();

  await new Promise<void>((resolve) => {
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    const end = (): void => {
      if (!open) return;
      open = false;
      lines.close();
      resolve();
    };
    output.on('error', end);
    lines.on('close', end);
    lines.on('line', (line) => {
      if (!line.trim()) return;
      const request = parseRequest(Buffer.from(line, 'utf8'), false);
      if (!request.ok) {
        write({ id: request.id, error: { code: 'INVALID_INPUT', message: request.message } });
        return;
      }
      dispatch(api, request.method, request.args).then(
        (result) => {
          if (isRunningTask(result)) started.add(result.id);
          write({ id: request.id, result: result ?? null });
        },
        (err: unknown) => write({ id: request.id, error: toErrorShape(err) }),
      );
    });
  });

  unsubscribe();
  // The link is gone: a migration arriving through it is settled (committed if its stream completed, else undone)...
  await core.incoming.settleAll();
  // ...and what this session started and is still running is cancelled and undone.
  const running = (): TaskInfo[] => core.tasks.list().filter((t) => started.has(t.id) && t.state === 'running');
  for (const task of running()) core.tasks.cancel(task.id);
  const deadline = Date.now() + SETTLE_MS;
  while (running().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  stopWatching();
  service.close();
}
