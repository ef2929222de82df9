/**
 * The renderer's only way to the core: the API contract, over the Electron preload bridge when the
 * app runs in Electron, else over the WebSocket of `vmdesk serve` (same origin, with its token).
 * A request may name a remote host (`apiFor(host)`): this computer's VMDesk forwards it over SSH;
 * events of remote hosts arrive tagged with their host.
 */
import type {
  ApiEventMessage,
  ApiEventName,
  ApiEvents,
  ApiMethod,
  ApiResponse,
  StreamEndpoint,
  VmdeskApi,
} from '../../src-main/api/contract';
import type { ErrorShape } from '../../src-main/api/errors';
import { createApiProxy } from '../../src-main/api/proxy';
import { hostOf, isLocalHost } from '../lib/hosts';

/** What src-main/electron/preload.ts exposes as `window.vmdesk`. */
export interface PreloadBridge {
  /** `host`: a remote host's name; absent: this computer. */
  call(method: ApiMethod, args: unknown[], host?: string): Promise<{ result: unknown } | { error: ErrorShape }>;
  onEvent(listener: (message: ApiEventMessage) => void): () => void;
  /** Commands chosen in the native application menu (ids of src-renderer/commands.ts). */
  onMenuCommand(listener: (command: string) => void): () => void;
}

declare global {
  interface Window {
    vmdesk?: PreloadBridge;
  }
}

/** An API error as thrown to callers: a plain Error carrying the contract's code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (message: ApiEventMessage) => void;

interface Transport {
  call(method: ApiMethod, args: unknown[], host?: string): Promise<unknown>;
  /** Settles once calls can be sent (or the connection failed: calls then reject at once). */
  ready(): Promise<void>;
  onEvent(listener: Listener): () => void;
  /** 'open' | 'connecting' | 'closed': shown in the status bar. */
  readonly state: { value: ConnectionState };
  onStateChange(listener: (state: ConnectionState) => void): () => void;
}

export type ConnectionState = 'open' | 'connecting' | 'closed';

function preloadTransport(bridge: PreloadBridge): Transport {
  const state = { value: 'open' as ConnectionState };
  return {
    async call(method, args, host) {
      const reply = await (host === undefined ? bridge.call(method, args) : bridge.call(method, args, host));
      if ('error' in reply) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
      return reply.result;
    },
    ready: () => Promise.resolve(),
    onEvent: (listener) => bridge.onEvent(listener),
    state,
    onStateChange: () => () => undefined,
  };
}

/** JSON messages over one WebSocket; reconnects with backoff, and callers see a clear error meanwhile. */
function webSocketTransport(url: string): Transport {
  const listeners = new Set<Listener>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const state = { value: 'connecting' as ConnectionState };
  let socket: WebSocket | null = null;
  let nextId = 1;
  let retryMs = 250;
  let opened: Promise<void>;

  const setState = (s: ConnectionState): void => {
    state.value = s;
    for (const l of stateListeners) l(s);
  };

  const connect = (): Promise<void> =>
    new Promise((resolve) => {
      setState('connecting');
      const ws = new WebSocket(url);
      socket = ws;
      ws.onopen = () => {
        retryMs = 250;
        setState('open');
        resolve();
      };
      ws.onmessage = (ev: MessageEvent<string>) => {
        let message: ApiResponse | ApiEventMessage;
        try {
          message = JSON.parse(ev.data) as ApiResponse | ApiEventMessage;
        } catch {
          return;
        }
        if ('event' in message) {
          for (const l of listeners) l(message);
          return;
        }
        const waiter = message.id === null ? undefined : pending.get(message.id);
        if (!waiter || message.id === null) return;
        pending.delete(message.id);
        if ('error' in message) waiter.reject(new ApiError(message.error.code, message.error.message, message.error.details));
        else waiter.resolve(message.result);
      };
      ws.onclose = () => {
        socket = null;
        for (const [, w] of pending) w.reject(new ApiError('DISCONNECTED', 'The connection to VMDesk was lost; reconnecting'));
        pending.clear();
        setState('closed');
        setTimeout(() => {
          opened = connect();
        }, retryMs);
        retryMs = Math.min(retryMs * 2, 5000);
        resolve();
      };
    });
  opened = connect();

  return {
    async call(method, args, host) {
      await opened;
      const ws = socket;
      if (!ws || ws.readyState !== WebSocket.OPEN) throw new ApiError('DISCONNECTED', 'Not connected to VMDesk; reconnecting');
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify(host === undefined ? { id, method, args } : { id, method, args, host }));
      });
    },
    ready: () => opened,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    state,
    onStateChange(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
  };
}

const TOKEN_KEY = 'vmdesk-token';

/**
 * The token of `vmdesk serve`. The URL it prints carries it once (`/?token=…`); the page keeps it in
 * its origin's storage, which is per port, and drops it from the address bar. It never goes into a
 * cookie: a browser sends the cookies of 127.0.0.1 to every port of it, a guest's web server behind
 * a port forward included (src-main/server/access.ts).
 */
function servedToken(): string {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  }
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

function apiSocketUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/api?token=${encodeURIComponent(servedToken())}`;
}

/**
 * Answers given ahead (the main window's starting calls, from the page `vmdesk serve` rendered): the
 * first call of each, on this computer and without arguments, gets its answer at once rather than
 * waiting for the WebSocket. Each answer is used once; later calls ask the core.
 */
const given = new Map<string, unknown>();

export function giveAnswers(answers: Readonly<Record<string, unknown>>): void {
  given.clear();
  for (const [method, result] of Object.entries(answers)) given.set(method, result);
}

function withGivenAnswers(inner: Transport): Transport {
  return {
    ...inner,
    call(method, args, host) {
      if (host === undefined && args.length === 0 && given.has(method)) {
        const result = given.get(method);
        given.delete(method);
        return Promise.resolve(result);
      }
      return inner.call(method, args, host);
    },
  };
}

/**
 * On the server (Vue's server renderer draws the window there): no connection, only the answers
 * given for this rendering; any other call fails at once, as a call fails while disconnected.
 */
function serverTransport(): Transport {
  return {
    call: () => Promise.reject(new ApiError('DISCONNECTED', 'Not connected to VMDesk while the window is drawn on the server')),
    ready: () => Promise.resolve(),
    onEvent: () => () => undefined,
    state: { value: 'connecting' },
    onStateChange: () => () => undefined,
  };
}

function baseTransport(): Transport {
  if (typeof window === 'undefined') return serverTransport();
  return window.vmdesk ? preloadTransport(window.vmdesk) : webSocketTransport(apiSocketUrl());
}

const transport: Transport = withGivenAnswers(baseTransport());

/** Every operation of the contract on this computer, typed; rejects with ApiError. */
export const api: VmdeskApi = createApiProxy((method, args) => transport.call(method, args));

/** Settles once the connection is open, or has failed (the preload's at once). */
export function apiReady(): Promise<void> {
  return transport.ready();
}

const remotes = new Map<string, VmdeskApi>();

/**
 * The API of one host: this computer for an absent, empty or "local" host, else the remote host of
 * that name (a call fails with UNREACHABLE while its link is down). Host-management methods
 * (listHosts, addHost…) are answered by this computer whatever the host.
 */
export function apiFor(host?: string | null): VmdeskApi {
  if (isLocalHost(host)) return api;
  const name = host as string;
  let remote = remotes.get(name);
  if (!remote) {
    remote = createApiProxy((method, args) => transport.call(method, args, name));
    remotes.set(name, remote);
  }
  return remote;
}

/**
 * Subscribe to one event of the contract, from every host; the listener gets the host it came from
 * ("local" for this computer). Returns the unsubscribe function.
 */
export function onApiEvent<E extends ApiEventName>(event: E, listener: (data: ApiEvents[E], host: string) => void): () => void {
  return transport.onEvent((message) => {
    if (message.event === event) listener(message.data as ApiEvents[E], hostOf(message.host));
  });
}

export function connectionState(): ConnectionState {
  return transport.state.value;
}

export function onConnectionState(listener: (state: ConnectionState) => void): () => void {
  return transport.onStateChange(listener);
}

let endpoint: Promise<StreamEndpoint> | null = null;

/**
 * ws:// URL of a console stream (`serial` or `vnc`) of a machine, with the token the server demands:
 * `/console/<kind>/<uuid>` on this computer, `/host/<host>/console/<kind>/<uuid>` for a remote
 * host's machine (streamed through its SSH link).
 */
export async function consoleUrl(kind: 'serial' | 'vnc', uuid: string, host?: string | null): Promise<string> {
  endpoint ??= api.streamEndpoint();
  const { url, token } = await endpoint.catch((err: unknown) => {
    endpoint = null;
    throw err;
  });
  const path = `/console/${kind}/${encodeURIComponent(uuid)}?token=${encodeURIComponent(token)}`;
  return isLocalHost(host) ? `${url}${path}` : `${url}/host/${encodeURIComponent(host as string)}${path}`;
}
