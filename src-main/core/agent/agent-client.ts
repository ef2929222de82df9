/** A core's connection to one VM agent: requests with ids, and state/QMP events. */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { VmdeskError, isErrorShape } from '../../api/errors.js';
import type { AgentMessage, AgentStatus } from './protocol.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type AgentCall = DistributiveOmit<import('./protocol.js').AgentRequest, 'id'>;

interface AgentClientEvents {
  state: [AgentStatus];
  qmp: [string, unknown];
  close: [];
}

/** The details of an error that means "the agent went away", not "the request failed". */
export const AGENT_LOST = { agentLost: true } as const;

export function isAgentLost(err: unknown): boolean {
  return err instanceof VmdeskError && (err.details as { agentLost?: unknown } | undefined)?.agentLost === true;
}

export class AgentClient extends EventEmitter<AgentClientEvents> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    super();
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line) this.onMessage(line);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new VmdeskError('INVALID_STATE', 'The machine stopped while the request was in progress', AGENT_LOST));
      }
      this.pending.clear();
      this.emit('close');
    });
  }

  static connect(socketPath: string): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new AgentClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Retry while the agent is still creating its socket. */
  static async connectWithRetry(socketPath: string, timeoutMs: number, isAlive: () => boolean): Promise<AgentClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await AgentClient.connect(socketPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline || !isAlive()) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onMessage(line: string): void {
    let msg: AgentMessage;
    try {
      msg = JSON.parse(line) as AgentMessage;
    } catch {
      return;
    }
    if ('event' in msg) {
      if (msg.event === 'state') this.emit('state', msg.status);
      else this.emit('qmp', msg.name, msg.data);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = isErrorShape(msg.error) ? msg.error : { code: 'INTERNAL' as const, message: 'Unknown agent error' };
      p.reject(new VmdeskError(e.code, e.message, e.details));
    } else p.resolve(msg.result);
  }

  /** One QMP command sent to QEMU through the agent: QEMU's answer (its `return`). */
  qmp<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T> {
    return this.request<T>(args ? { op: 'qmp', command, args } : { op: 'qmp', command }, timeoutMs);
  }

  request<T = unknown>(call: AgentCall, timeoutMs = 30_000): Promise<T> {
    if (this.closed) return Promise.reject(new VmdeskError('INVALID_STATE', 'The machine is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new VmdeskError('TIMEOUT', `The VM agent did not answer "${call.op}" within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(JSON.stringify({ id, ...call }) + '\n');
    });
  }

  /** Resolves when the agent closes the connection (it does so last, once its files are gone). */
  whenClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
