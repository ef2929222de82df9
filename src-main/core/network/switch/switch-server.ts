/**
 * One internal network's switch: a unix socket server that QEMU's `-netdev stream` clients connect
 * to, each connection one switch port. It holds the network's pid file as an exclusive lock for its
 * whole life (a second switch for the same network refuses to start; one left by a killed switch is
 * taken over, its stale socket replaced), and shuts down a few seconds after its last client leaves.
 */
import fs from 'node:fs';
import net from 'node:net';
import { acquireLock, type LockHandle } from '../../fs/lock-file.js';
import { ETHERNET_HEADER, FrameDecoder, encodeFrame } from './frame-codec.js';
import { LearningSwitch } from './learning-switch.js';

/** After the last client leaves, the switch waits this long for a new one, then exits. */
export const IDLE_EXIT_MS = 5_000;
/**
 * A core about to start a machine sends HOLD (too short to be an Ethernet frame) and waits for it
 * to come back: the switch then stays up at least this long, so QEMU finds it when it connects.
 */
export const HOLD_MS = 30_000;
export const HOLD_MESSAGE = Buffer.from('vmdesk-hold');
/** Exit status of a switch process that found another one already serving its network. */
export const ALREADY_RUNNING_EXIT = 75;
/** A client that does not read what it is sent loses frames past this much queued data. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export interface SwitchFiles {
  socket: string;
  pid: string;
  log: string;
}

export function switchFiles(socket: string): SwitchFiles {
  const base = socket.replace(/\.sock$/, '');
  return { socket, pid: `${base}.pid`, log: `${base}.log` };
}

export interface SwitchOptions {
  socket: string;
  /** The network's name, for the log. */
  name: string;
  idleMs?: number;
  holdMs?: number;
  log?: (line: string) => void;
}

export interface SwitchStats {
  clients: number;
  framesIn: number;
  framesOut: number;
  dropped: number;
}

export class SwitchServer {
  private readonly ports = new LearningSwitch<net.Socket>();
  private readonly clients = new Map<net.Socket, number>();
  private nextClient = 1;
  private readonly corked = new Set<net.Socket>();
  private idleTimer: NodeJS.Timeout | null = null;
  private holdUntil = 0;
  private closing: Promise<void> | null = null;
  private resolveClosed!: () => void;
  /** Resolves once the switch has shut down (idle, or close()). */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  readonly stats: SwitchStats = { clients: 0, framesIn: 0, framesOut: 0, dropped: 0 };

  private constructor(
    private readonly options: SwitchOptions,
    private readonly server: net.Server,
    private readonly lock: LockHandle,
  ) {}

  /** Fails with LOCKED when a live switch already serves this network. */
  static async start(options: SwitchOptions): Promise<SwitchServer> {
    const files = switchFiles(options.socket);
    const lock = await acquireLock(files.pid, `running the switch of internal network "${options.name}"`, 0);
    try {
      // We hold the lock: a socket file here was left by a switch that died without cleaning up.
      fs.rmSync(files.socket, { force: true });
      const server = net.createServer({ pauseOnConnect: false });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(files.socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
      fs.chmodSync(files.socket, 0o600);
      const sw = new SwitchServer(options, server, lock);
      server.on('connection', (socket) => sw.onConnection(socket));
      server.on('error', (err) => sw.log(`server error: ${err.message}`));
      sw.log(`switch of internal network "${options.name}" listening on ${files.socket} (pid ${process.pid})`);
      sw.scheduleIdle();
      return sw;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private log(line: string): void {
    this.options.log?.(`${new Date().toISOString()} ${line}`);
  }

  private onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const id = this.nextClient++;
    this.clients.set(socket, id);
    this.stats.clients = this.clients.size;
    this.ports.addPort(socket);
    this.cancelIdle();
    const decoder = new FrameDecoder();
    let frames = 0;
    socket.on('data', (chunk: Buffer) => {
      let received: Buffer[];
      try {
        received = decoder.push(chunk);
      } catch (err) {
        this.log(`client ${id}: ${(err as Error).message}: disconnected`);
        socket.destroy();
        return;
      }
      // The frames of one read leave in one write per port (corked until all are switched).
      for (const frame of received) if (this.onFrame(socket, frame)) frames++;
      for (const port of this.corked) port.uncork();
      this.corked.clear();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.clients.delete(socket);
      this.stats.clients = this.clients.size;
      this.ports.removePort(socket);
      // The cores' hold requests come and go without a frame: only machines are worth a line.
      if (frames > 0) this.log(`client ${id} left after ${frames} frames (${this.clients.size} left)`);
      if (this.clients.size === 0) this.scheduleIdle();
    });
  }

  /** False when it was not an Ethernet frame (the core's hold request, or junk that is dropped). */
  private onFrame(from: net.Socket, frame: Buffer): boolean {
    if (frame.length < ETHERNET_HEADER) {
      if (frame.equals(HOLD_MESSAGE)) {
        this.holdUntil = Math.max(this.holdUntil, Date.now() + (this.options.holdMs ?? HOLD_MS));
        from.write(encodeFrame(HOLD_MESSAGE));
      }
      return false;
    }
    this.stats.framesIn++;
    const targets = this.ports.receive(from, frame);
    if (targets.length === 0) return true;
    const wire = encodeFrame(frame);
    for (const port of targets) {
      if (port.destroyed || port.writableLength > MAX_QUEUED_BYTES) {
        this.stats.dropped++;
        continue;
      }
      if (!this.corked.has(port)) {
        port.cork();
        this.corked.add(port);
      }
      port.write(wire);
      this.stats.framesOut++;
    }
    return true;
  }

  private cancelIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private scheduleIdle(): void {
    this.cancelIdle();
    const delay = Math.max(this.options.idleMs ?? IDLE_EXIT_MS, this.holdUntil - Date.now());
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.clients.size > 0) return;
      if (Date.now() < this.holdUntil) this.scheduleIdle();
      else void this.close('no clients left');
    }, delay);
  }

  /** Stop serving: the socket file goes first (so nobody connects to a closing switch), then the lock. */
  close(reason = 'closed'): Promise<void> {
    this.closing ??= (async () => {
      this.cancelIdle();
      this.log(`exiting: ${reason} (${this.stats.framesIn} frames in, ${this.stats.framesOut} out, ${this.stats.dropped} dropped)`);
      fs.rmSync(this.options.socket, { force: true });
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.clients.keys()) socket.destroy();
      await serverClosed;
      await this.lock.release();
      this.resolveClosed();
    })();
    return this.closing;
  }
}
