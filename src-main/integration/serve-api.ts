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

export function serve(sb: Sandbox): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
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

export interface ApiSocket {
  call(method: string, ...args: unknown[]): Promise<ApiReply>;
  close(): void;
}

export async function openApi(served: Served): Promise<ApiSocket> {
  const { origin, host } = served.url;
  const ws = new WebSocket(`ws://${host}/api?token=${served.url.searchParams.get('token') ?? ''}`, { origin });
  const pending = new Map<number, (reply: ApiReply) => void>();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as ApiReply & { id?: number };
    if (typeof message.id === 'number') pending.get(message.id)?.(message);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  return {
    call: (method, ...args) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, args }));
      }),
    close: () => ws.close(),
  };
}
