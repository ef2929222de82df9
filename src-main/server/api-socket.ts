/**
 * `/api`: the API contract over one WebSocket. Requests are JSON text frames
 * `{ id, method, args }`; each gets `{ id, result }` or `{ id, error }`. Events of the core are
 * pushed as `{ event, data }`. A malformed frame gets an INVALID_INPUT error with `id: null` and the
 * socket keeps serving: nothing a client sends can take the server down.
 */
import type WebSocket from 'ws';
import type { ApiEventMessage, ApiResponse, VmdeskApi } from '../api/contract.js';
import { dispatch } from '../api/dispatch.js';
import { toErrorShape } from '../api/errors.js';
import type { EventSink } from '../core/service.js';

/** Larger frames are answered with an error; `maxPayload` (a hard limit) closes the socket. */
export const API_MESSAGE_LIMIT = 1024 * 1024;

type ParsedRequest =
  { ok: true; id: number; method: unknown; args: unknown; host?: string } | { ok: false; id: number | null; message: string };

export function parseRequest(data: Buffer, isBinary: boolean): ParsedRequest {
  if (isBinary) return { ok: false, id: null, message: 'Requests are JSON text frames, not binary frames' };
  if (data.length > API_MESSAGE_LIMIT) return { ok: false, id: null, message: `A request may not exceed ${API_MESSAGE_LIMIT} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, id: null, message: 'A request must be JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, id: null, message: 'A request must be an object { id, method, args }' };
  const { id, method, args, host } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
    return { ok: false, id: null, message: 'A request needs an "id": a whole number, 0 or more' };
  if (typeof method !== 'string') return { ok: false, id, message: 'A request needs a "method" (a string)' };
  if (args !== undefined && !Array.isArray(args)) return { ok: false, id, message: '"args" must be an array' };
  if (host !== undefined && typeof host !== 'string') return { ok: false, id, message: '"host" must be the name of a host' };
  return { ok: true, id, method, args, ...(host === undefined ? {} : { host }) };
}

/** A client this far behind reading its answers and events is gone or hostile: it is dropped. */
const SEND_BACKLOG_LIMIT = 64 * 1024 * 1024;

function send(ws: WebSocket, message: ApiResponse | ApiEventMessage): void {
  if (ws.readyState !== ws.OPEN) return;
  if (ws.bufferedAmount > SEND_BACKLOG_LIMIT) {
    ws.terminate();
    return;
  }
  let text: string;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    if ('event' in message) return;
    text = JSON.stringify({ id: message.id, error: toErrorShape(err) });
  }
  ws.send(text);
}

export interface ApiSocketOptions {
  api: VmdeskApi;
  /** Forward the core's events; returns the function that stops forwarding. */
  subscribe: (sink: EventSink) => () => void;
  /** Requests for a remote host go here; without it, only this computer's requests are served. */
  route?: (host: string | undefined, method: unknown, args: unknown) => Promise<unknown>;
}

export function serveApiSocket(ws: WebSocket, { api, subscribe, route }: ApiSocketOptions): void {
  const unsubscribe = subscribe((event, data, host) => send(ws, host === undefined ? { event, data } : { event, data, host }));
  ws.on('close', unsubscribe);
  ws.on('error', () => ws.terminate());
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    const request = parseRequest(bytes, isBinary);
    if (!request.ok) {
      send(ws, { id: request.id, error: { code: 'INVALID_INPUT', message: request.message } });
      return;
    }
    const answer =
      route && request.host !== undefined ? route(request.host, request.method, request.args) : dispatch(api, request.method, request.args);
    answer.then(
      (result) => send(ws, { id: request.id, result: result ?? null }),
      (err: unknown) => send(ws, { id: request.id, error: toErrorShape(err) }),
    );
  });
}
