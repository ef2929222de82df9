/**
 * `vmdesk serve` as a test's second front end: the real CLI on a free loopback port, and its /api
 * WebSocket opened with the printed token, replies returned whole (result or typed error).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { CLI, type Sandbox } from './harness.js';

export interface Served {
  child: ChildProcess;
  url: URL;
}

/** `command`: how `vmdesk` is run (the launcher set-up writes, for one). */
export function serve(sb: Pick<Sandbox, 'env'>, command: string[] = [process.execPath, CLI]): Promise<Served> {
  const [program = process.execPath, ...args] = command;
  const child = spawn(program, [...args, 'serve', '--port', '0'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmdesk serve printed no URL:\n${output}`)), 30_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /VMDesk is serving on (http:\/\/\S+)\n/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: new URL(m[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`vmdesk serve exited ${String(code)}:\n${output}`)));
  });
}

export interface ApiReply {
  result?: unknown;
  error?: { code: string; message: string };
}

export interface ApiEvent {
  event: string;
  data: unknown;
  host?: string;
}

export interface ApiSocket {
  call(method: string, ...args: unknown[]): Promise<ApiReply>;
  /** The same, for a remote host. */
  callOn(host: string, method: string, ...args: unknown[]): Promise<ApiReply>;
  /** Every event received so far, in order. */
  events: ApiEvent[];
  /** The first event (already received or to come) that `accept` takes. */
  waitEvent(accept: (e: ApiEvent) => boolean, timeoutMs: number): Promise<ApiEvent>;
  close(): void;
}

export async function openApi(served: Served): Promise<ApiSocket> {
  const { origin, host } = served.url;
  const ws = new WebSocket(`ws://${host}/api?token=${served.url.searchParams.get('token') ?? ''}`, { origin });
  const pending = new Map<number, (reply: ApiReply) => void>();
  const events: ApiEvent[] = [];
  const waiters = new Set<(e: ApiEvent) => void>();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as ApiReply & { id?: number } & Partial<ApiEvent>;
    if (typeof message.id === 'number') pending.get(message.id)?.(message);
    else if (typeof message.event === 'string') {
      const event: ApiEvent = { event: message.event, data: message.data, ...(message.host ? { host: message.host } : {}) };
      events.push(event);
      for (const w of waiters) w(event);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const send = (host: string | undefined, method: string, args: unknown[]): Promise<ApiReply> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, args, ...(host ? { host } : {}) }));
    });
  return {
    call: (method, ...args) => send(undefined, method, args),
    callOn: (host, method, ...args) => send(host, method, args),
    events,
    waitEvent: (accept, timeoutMs) =>
      new Promise((resolve, reject) => {
        const seen = events.find(accept);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such event within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (e: ApiEvent): void => {
          if (!accept(e)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(e);
        };
        waiters.add(check);
      }),
    close: () => ws.close(),
  };
}
