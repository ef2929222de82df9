/**
 * A small QMP client over a unix socket: greeting + `qmp_capabilities` handshake, commands with ids
 * (pipelining allowed, replies matched by id) and timeouts, and QMP events re-emitted as `'event'`.
 * The socket carries newline-delimited JSON; QEMU may split or coalesce messages arbitrarily.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { VmdeskError } from '../../api/errors.js';

/** The longest QMP line read; a longer one ends the connection. */
const MAX_LINE = 16 * 1024 * 1024;

export interface QmpGreeting {
  /** "major.minor.micro", e.g. "7.2.22". */
  version: string;
  /** Distribution build string, e.g. "Debian 1:7.2+dfsg-7+deb12u18". */
  package: string;
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [];
}

export interface QmpConnectOptions {
  /** Handshake timeout, and the default timeout of every command. */
  timeoutMs?: number;
  /** Epoch ms: until then, keep retrying while the socket is missing (ENOENT) or refused (ECONNREFUSED). */
  retryUntil?: number;
}

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const RETRY_INTERVAL_MS = 50;

export class QmpClient extends EventEmitter<QmpClientEvents> {
  greeting: QmpGreeting = { version: '', package: '', capabilities: [] };

  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private closedByUs = false;
  private onGreeting: ((msg: Record<string, unknown>) => void) | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly defaultTimeoutMs: number,
  ) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    // 'close' always follows 'error'; the pending commands are failed there.
    socket.on('error', () => undefined);
    socket.on('close', () => this.handleClose());
  }

  static async connect(socketPath: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const socket = await openSocket(socketPath, opts.retryUntil ?? 0);
    const client = new QmpClient(socket, timeoutMs);
    try {
      await client.handshake(timeoutMs);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late reply to this id is dropped by receive(): nothing waits for it any more.
        this.pending.delete(id);
        reject(new VmdeskError('TIMEOUT', `QEMU did not answer ${command} within ${timeoutMs} ms`, { command }));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve, reject, timer });
      const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closedByUs = true;
    this.socket.destroy();
    // Fail pending commands and emit 'close' now rather than on the next tick of the socket.
    this.handleClose();
  }

  private handshake(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onGreeting = null;
        reject(new VmdeskError('TIMEOUT', `QEMU sent no QMP greeting within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = (): void => {
        clearTimeout(timer);
        reject(new VmdeskError('QEMU_FAILED', 'QEMU closed the monitor connection during the QMP handshake'));
      };
      this.once('close', onClose);
      this.onGreeting = (msg) => {
        clearTimeout(timer);
        this.off('close', onClose);
        this.onGreeting = null;
        this.greeting = parseGreeting(msg);
        this.execute('qmp_capabilities', undefined, { timeoutMs }).then(() => resolve(), reject);
      };
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    // Lines end only in a chunk with a newline: a long line is searched once it ends, not again at
    // each of its chunks (which made a 16 MiB line quadratic: seconds of CPU, ~20 s on a busy host).
    if (!chunk.includes('\n')) {
      // QMP's answers are lines of a few KiB (query-block of many disks: tens): a "line" that never
      // ends is not QMP, and must not grow the agent's memory without bound.
      if (this.buffer.length > MAX_LINE) {
        this.buffer = '';
        this.close();
      }
      return;
    }
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line) this.dispatch(line);
      if (this.closed) return;
    }
  }

  private dispatch(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not QMP: ignore rather than tear the connection down
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return;
    const m = msg as Record<string, unknown>;
    if ('QMP' in m) {
      this.onGreeting?.(m);
      return;
    }
    if (typeof m.event === 'string') {
      const ts = (m.timestamp ?? {}) as { seconds?: unknown; microseconds?: unknown };
      const event: QmpEvent = {
        event: m.event,
        timestamp: { seconds: numberField(ts.seconds), microseconds: numberField(ts.microseconds) },
      };
      if (m.data !== undefined) event.data = m.data;
      this.emit('event', event);
      return;
    }
    if (typeof m.id !== 'number') return; // a reply to nobody (we always send numeric ids)
    const pending = this.pending.get(m.id);
    if (!pending) return;
    this.pending.delete(m.id);
    clearTimeout(pending.timer);
    if ('error' in m) {
      const error = (m.error ?? {}) as { class?: unknown; desc?: unknown };
      const desc = typeof error.desc === 'string' ? error.desc : 'unknown error';
      pending.reject(new VmdeskError('QEMU_FAILED', `${pending.command}: ${desc}`, { class: error.class }));
    } else {
      pending.resolve(m.return);
    }
  }

  private handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.onGreeting = null;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(this.closedError(p.command));
    }
    this.emit('close');
  }

  private closedError(command?: string): VmdeskError {
    const why = this.closedByUs ? 'the QMP connection was closed' : 'QEMU closed the monitor connection';
    return new VmdeskError('QEMU_FAILED', command ? `${command}: ${why}` : why.charAt(0).toUpperCase() + why.slice(1));
  }
}

/**
 * A number from a QMP message, or 0. Fields are read by their type, never converted: Number() or
 * String() of an object like {"valueOf":1} throws, and would throw out of the socket's data handler.
 */
function numberField(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function parseGreeting(msg: Record<string, unknown>): QmpGreeting {
  const qmp = (msg.QMP ?? {}) as {
    version?: { qemu?: { major?: unknown; minor?: unknown; micro?: unknown }; package?: unknown };
    capabilities?: unknown;
  };
  const v = qmp.version?.qemu;
  const parts = [v?.major, v?.minor, v?.micro];
  return {
    version: parts.every((n) => typeof n === 'number') ? parts.join('.') : '',
    package: typeof qmp.version?.package === 'string' ? qmp.version.package.trim() : '',
    capabilities: Array.isArray(qmp.capabilities) ? qmp.capabilities.filter((c): c is string => typeof c === 'string') : [],
  };
}

async function openSocket(socketPath: string, retryUntil: number): Promise<net.Socket> {
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.createConnection(socketPath);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code;
      const retryable = errno === 'ENOENT' || errno === 'ECONNREFUSED';
      const remaining = retryUntil - Date.now();
      if (retryable && remaining > 0) {
        await new Promise((r) => setTimeout(r, Math.min(RETRY_INTERVAL_MS, remaining)));
        continue;
      }
      const code = retryable && retryUntil > 0 ? 'TIMEOUT' : 'QEMU_FAILED';
      throw new VmdeskError(code, `Cannot connect to the QEMU monitor at ${socketPath}: ${(err as Error).message}`, { errno });
    }
  }
}
