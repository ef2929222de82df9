/**
 * The VM agent process: launches (or re-adopts) one QEMU, owns its QMP and serial connections,
 * tracks its state from QMP events and serves cores over agent.sock and console.sock.
 * It outlives any core; when QEMU exits it records how (exit.json), cleans up and exits too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { VmdeskError, toErrorShape } from '../../api/errors.js';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { isProcessAlive } from '../fs/lock-file.js';
import { RUNTIME } from '../paths.js';
import { QmpClient } from '../qemu/qmp-client.js';
import { Scrollback } from '../console/scrollback.js';
import {
  agentRequestSchema,
  launchFileSchema,
  stateFileSchema,
  type AgentMessage,
  type AgentRequest,
  type AgentStatus,
  type LaunchFile,
} from './protocol.js';
import { VmStateMachine, diskErrorsOf, type BlockInfo, type StateInput } from './vm-state.js';
import { readLogTail } from './log-tail.js';
import { applyCpuPlan, releaseCpuPlan } from '../resources/cpu-limits.js';
import { feedSecret, makeSecretFifo, readSecretFd } from '../storage/secret-fifo.js';

const QMP_CONNECT_TIMEOUT_MS = 30_000;
const ADOPT_QMP_RETRY_MS = 1_000;
const POWEROFF_GRACE_MS = 5_000;

export class VmAgent {
  private readonly sm: VmStateMachine;
  private qmp: QmpClient | null = null;
  private serial: net.Socket | null = null;
  private readonly pendingInput: Buffer[] = [];
  private child: ChildProcess | null = null;
  private qemuPid: number | null = null;
  private scrollback = new Scrollback();
  private readonly clients = new Set<net.Socket>();
  private readonly viewers = new Set<net.Socket>();
  private readonly servers: net.Server[] = [];
  private readonly exitWaiters: Array<() => void> = [];
  private exited = false;
  private stateWrites: Promise<void> = Promise.resolve();
  private startedAt: string;
  /** While QEMU is unloaded for a relaunch in place: the client that asked, which must relaunch it. */
  private unloadedBy: net.Socket | null = null;
  /** Settles once QEMU is launched and continued, or adopted (or that failed). */
  private ready: Promise<void> = Promise.resolve();
  /** An adopting agent that cannot reach a QEMU which still runs: what it says before it goes. */
  private unreachable: AgentStatus | null = null;
  /** Encrypted disks: the passphrase, in memory only (read from fd 3), for each QEMU this agent launches. */
  private passphrase: string | null = null;

  constructor(
    private readonly runtimeDir: string,
    private launch: LaunchFile,
    private mode: 'launch' | 'adopt',
    /** Encrypted disks: the passphrase a standby agent was given with its word to go (else read from fd 3). */
    passphrase?: string,
  ) {
    if (passphrase !== undefined) this.passphrase = passphrase;
    this.sm = new VmStateMachine('starting');
    this.startedAt = new Date().toISOString();
  }

  private file(name: keyof typeof RUNTIME): string {
    return path.join(this.runtimeDir, RUNTIME[name]);
  }

  status(): AgentStatus {
    if (this.unreachable) return this.unreachable;
    const snap = this.sm.snapshot;
    const status: AgentStatus = {
      uuid: this.launch.uuid,
      name: this.launch.name,
      state: snap.state,
      qemuPid: this.qemuPid,
      agentPid: process.pid,
      accel: this.launch.accel,
      startedAt: this.startedAt,
    };
    if (snap.reason) status.reason = snap.reason;
    if (snap.state === 'crashed') status.logTail = readLogTail(this.launch.qemuLog);
    if (this.exited) status.exited = true;
    return status;
  }

  async run(): Promise<void> {
    await fsp.writeFile(this.file('agentPid'), `${process.pid}\n`);
    if (this.mode === 'launch' && this.launch.encrypted && this.passphrase === null) this.passphrase = await readSecretFd(3);
    // QEMU first: it initialises (paused, -S) while this agent opens its own sockets.
    if (this.mode === 'launch') this.spawnQemu();
    await this.seedScrollback();
    let settle = (): void => undefined;
    this.ready = new Promise((resolve) => (settle = resolve));
    await this.listen();
    // An adopting agent keeps its predecessor's state.json (running or paused: the truth) until it
    // knows QEMU's state itself; "starting" would refuse pause, resume and shutdown meanwhile.
    if (this.mode === 'launch') await this.publish();
    try {
      if (this.mode === 'launch') await this.startQemu();
      else await this.adoptQemu();
      settle();
    } catch (err) {
      const shape = toErrorShape(err);
      // A QEMU that still runs is never declared crashed: that would drop its pid file and sockets,
      // and the next start would launch a second QEMU on its disks.
      const stillRuns =
        this.mode === 'adopt' && this.qemuPid !== null && isProcessAlive(this.qemuPid) && isQemuOf(this.qemuPid, this.launch.uuid);
      if (stillRuns) this.unreachable = await this.unreachableStatus(shape.message);
      settle();
      process.stderr.write(`agent: ${shape.message}\n`);
      if (stillRuns) {
        await this.leaveUnreachable();
        return;
      }
      if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
      if (!this.exited) await this.onQemuExit(null, null, shape.message);
    }
  }

  private spawnQemu(): void {
    const log = fs.openSync(this.launch.qemuLog, 'a');
    fs.writeSync(
      log,
      `\n=== ${new Date().toISOString()} VMDesk starting ${this.launch.qemuBinary} ${this.launch.args.map(quoteForLog).join(' ')}\n`,
    );
    const secret = this.launch.encrypted ? this.secretFifo() : null;
    const child = spawn(this.launch.qemuBinary, this.launch.args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    if (secret !== null) void feedSecret(this.file('secret'), secret, () => child.exitCode !== null || child.signalCode !== null);
    this.child = child;
    this.qemuPid = child.pid ?? null;
    // A QEMU unloaded for a relaunch is no longer this agent's: its exit ends nothing.
    child.on('exit', (code, signal) => {
      if (this.child === child) void this.onQemuExit(code, signal);
    });
    child.on('error', (err) => {
      if (this.child === child) void this.onQemuExit(null, null, `Cannot run ${this.launch.qemuBinary}: ${err.message}`);
    });
  }

  /** The passphrase for a QEMU about to start, with the FIFO it reads it from (see storage/secret-fifo.ts). */
  private secretFifo(): string {
    if (this.passphrase === null)
      throw new VmdeskError('INVALID_INPUT', `${this.launch.name} has encrypted disks and its agent was given no passphrase`);
    makeSecretFifo(this.file('secret'));
    return this.passphrase;
  }

  private async startQemu(): Promise<void> {
    // The serial socket exists as soon as QEMU's chardevs do, before its QMP greeting.
    await Promise.all([this.connectQmp(), this.connectSerial(Date.now() + QMP_CONNECT_TIMEOUT_MS)]);
    // Before the guest runs a single instruction: its cgroup (cap, shares) and its vCPUs' host CPUs.
    if (this.launch.cpu && this.qemuPid !== null) await applyCpuPlan(this.launch.cpu, this.qemuPid, this.requireQmp());
    for (const nic of this.launch.linksDown) {
      await this.requireQmp().execute('set_link', { name: `${nic}-dev`, up: false });
    }
    if (this.launch.incoming) await loadIncomingState(this.requireQmp(), this.launch.incoming.file);
    if (this.launch.incomingMigration) {
      // Paused until the migration's driver says the stream is complete and continues it (resume).
      this.transition({ kind: 'continued' });
      this.transition({ kind: 'qmp', event: 'STOP' });
      this.watchIncomingOwner();
      return;
    }
    await this.requireQmp().execute('cont');
    this.transition({ kind: 'continued' });
  }

  private async adoptQemu(): Promise<void> {
    const pid = Number((await fsp.readFile(this.file('qemuPid'), 'utf8')).trim());
    if (!Number.isInteger(pid) || !isProcessAlive(pid) || !isQemuOf(pid, this.launch.uuid)) {
      throw new VmdeskError('NOT_FOUND', `QEMU (pid ${pid}) of ${this.launch.name} is no longer running`);
    }
    this.qemuPid = pid;
    await this.loadScrollbackFromLog();
    await this.connectQmp();
    // Before the state says running: a client that sees it may type at once.
    await this.connectSerial();
    const status = await this.requireQmp().execute<{ running: boolean; status: string }>('query-status');
    if (status.status === 'prelaunch') {
      // The previous agent died between launching QEMU and continuing it.
      await this.requireQmp().execute('cont');
      this.transition({ kind: 'continued' });
    } else {
      this.transition({ kind: 'continued' });
      if (!status.running) this.transition({ kind: 'qmp', event: 'STOP' });
      if (status.status === 'guest-panicked') this.transition({ kind: 'qmp', event: 'GUEST_PANICKED' });
      // The BLOCK_IO_ERROR that paused it went to the previous agent.
      if (status.status === 'io-error') await this.readDiskErrors(true);
    }
  }

  /**
   * The state its predecessor recorded (running or paused: the truth), with why this agent cannot
   * drive it and how the user ends it.
   */
  private async unreachableStatus(why: string): Promise<AgentStatus> {
    const saved = await fsp
      .readFile(this.file('state'), 'utf8')
      .then((text) => stateFileSchema.safeParse(JSON.parse(text)))
      .catch(() => null);
    const state = saved?.success && (saved.data.state === 'running' || saved.data.state === 'paused') ? saved.data.state : 'running';
    const pid = this.qemuPid ?? 0;
    return {
      ...this.status(),
      state,
      reason: `QEMU (pid ${pid}) still runs ${this.launch.name} but VMDesk cannot reach it (${why}); end it with \`kill ${pid}\``,
      exited: true,
    };
  }

  /** Say so to the waiting clients and in state.json, then go, leaving QEMU's pid file and sockets as they are. */
  private async leaveUnreachable(): Promise<void> {
    const status = this.status();
    this.broadcast({ event: 'state', status });
    await writeJsonAtomic(this.file('state'), status).catch(() => undefined);
    await this.cleanup(['agent', 'console', 'agentPid']);
  }

  private async connectQmp(): Promise<void> {
    // A re-adopted QEMU made its socket long ago: one that is missing or refuses will not come back.
    const retryMs = this.mode === 'adopt' ? ADOPT_QMP_RETRY_MS : QMP_CONNECT_TIMEOUT_MS;
    // QEMU greets once its devices are up: an encrypted disk's key slot takes seconds to unlock first.
    const greetingMs = this.launch.encrypted ? 60_000 : 10_000;
    const qmp = await QmpClient.connect(this.file('qmp'), { retryUntil: Date.now() + retryMs, timeoutMs: greetingMs });
    this.qmp = qmp;
    qmp.on('event', (ev: { event: string; data?: unknown }) => {
      if (this.qmp !== qmp) return;
      this.transition({ kind: 'qmp', event: ev.event, data: ev.data });
      this.broadcast({ event: 'qmp', name: ev.event, data: ev.data });
      // The event names the node, not the disk or its file (a node changes with every snapshot).
      if (ev.event === 'BLOCK_IO_ERROR' && (ev.data as { action?: string } | undefined)?.action === 'stop') void this.readDiskErrors(false);
    });
    qmp.on('close', () => {
      if (this.qmp !== qmp) return;
      this.qmp = null;
      if (!this.child) void this.watchAdoptedExit();
    });
  }

  /** An adopted QEMU is not our child: its end shows as the QMP socket closing, then the pid going. */
  private async watchAdoptedExit(): Promise<void> {
    const pid = this.qemuPid;
    for (let i = 0; i < 100 && pid !== null && isProcessAlive(pid); i++) await sleep(50);
    await this.onQemuExit(null, null);
  }

  private async connectSerial(retryUntil = 0): Promise<void> {
    if (!this.launch.serial) return;
    const socket = await connectUnix(this.file('serial'), retryUntil, () => this.exited);
    this.serial = socket;
    for (const chunk of this.pendingInput.splice(0)) socket.write(chunk);
    socket.on('data', (chunk: Buffer) => {
      this.scrollback.push(chunk);
      for (const viewer of this.viewers) viewer.write(chunk);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.serial !== socket) return;
      this.serial = null;
      // Not ended by us (QEMU's exit or a relaunch clear this.serial first): QEMU's listener takes a
      // new connection. Until then what is typed waits in pendingInput; the guest's output still
      // reaches serial.log (QEMU writes it).
      if (this.exited || this.unloadedBy) return;
      process.stderr.write('agent: the serial connection to QEMU closed; reconnecting\n');
      setTimeout(() => {
        if (!this.serial && !this.exited && !this.unloadedBy)
          this.connectSerial(Date.now() + QMP_CONNECT_TIMEOUT_MS).catch((err: unknown) =>
            process.stderr.write(`agent: could not reconnect the serial console: ${(err as Error).message}\n`),
          );
      }, 100).unref();
    });
  }

  /**
   * A machine resumed from a saved state: the console as it was then comes first in the scrollback.
   * The launching agent copies it into the runtime dir (the state's files may go while the machine
   * runs), where a re-adopting agent and the next snapshot find it. Guest output: only replayed.
   */
  private async seedScrollback(): Promise<void> {
    const seed = this.file('scrollback');
    const kept = this.launch.incoming?.console;
    if (this.mode === 'launch' && kept) await fsp.copyFile(kept, seed).catch(() => undefined);
    const data = await fsp.readFile(seed).catch(() => null);
    if (!data) return;
    this.scrollback.push(data);
    // Viewers that came while a relaunch in place was under way have been sent nothing yet.
    for (const viewer of this.viewers) viewer.write(data);
  }

  private async loadScrollbackFromLog(): Promise<void> {
    try {
      const data = await fsp.readFile(this.launch.serialLog);
      this.scrollback.push(data.subarray(Math.min(this.launch.serialLogStart, data.length)));
    } catch {
      // No log yet: the guest has printed nothing.
    }
  }

  /** Which disks' errors stopped the guest, from query-block; `known` when QEMU says it stopped on one. */
  private async readDiskErrors(known: boolean): Promise<void> {
    const blocks = await this.qmp?.execute<BlockInfo[]>('query-block').catch(() => null);
    const errors = diskErrorsOf(blocks ?? []);
    if (errors.length > 0 || known) this.transition({ kind: 'disk-errors', errors });
  }

  private requireQmp(): QmpClient {
    if (!this.qmp) throw new VmdeskError('INVALID_STATE', `${this.launch.name} is not running`);
    return this.qmp;
  }

  private transition(input: StateInput): void {
    if (this.sm.apply(input)) void this.publish();
  }

  private async publish(): Promise<void> {
    const status = this.status();
    this.broadcast({ event: 'state', status });
    // One write at a time, in order: changes a few microseconds apart (re-adoption) must end with the last.
    this.stateWrites = this.stateWrites.then(() => writeJsonAtomic(this.file('state'), status).catch(() => undefined));
    await this.stateWrites;
  }

  private broadcast(message: AgentMessage): void {
    const line = JSON.stringify(message) + '\n';
    for (const client of this.clients) client.write(line);
  }

  private async listen(): Promise<void> {
    const control = net.createServer((socket) => this.onControlClient(socket));
    const consoleServer = net.createServer((socket) => this.onViewer(socket));
    // The console first: a core that reaches agent.sock takes the agent as ready, console included
    // (a re-adopting agent replaces the sockets its killed predecessor left behind).
    for (const [server, file] of [
      [consoleServer, this.file('console')],
      [control, this.file('agent')],
    ] as const) {
      await fsp.rm(file, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(file, () => resolve());
      });
      this.servers.push(server);
    }
  }

  private onViewer(socket: net.Socket): void {
    this.viewers.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.viewers.delete(socket));
    const past = this.scrollback.contents();
    if (past.length > 0) socket.write(past);
    socket.on('data', (chunk: Buffer) => this.typeIntoSerial(chunk));
  }

  /** Keyboard input from viewers; kept (up to 64 KiB) while the serial connection is not up yet. */
  private typeIntoSerial(chunk: Buffer): void {
    if (this.serial) {
      this.serial.write(chunk);
    } else if (!this.exited && this.launch.serial) {
      this.pendingInput.push(chunk);
      while (this.pendingInput.reduce((n, b) => n + b.length, 0) > 64 * 1024) this.pendingInput.shift();
    }
  }

  private onControlClient(socket: net.Socket): void {
    this.clients.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.clients.delete(socket));
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.length > 1024 * 1024) {
        socket.destroy();
        return;
      }
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) void this.onRequestLine(socket, line);
      }
    });
  }

  private async onRequestLine(socket: net.Socket, line: string): Promise<void> {
    let id = 0;
    try {
      let raw: { id?: unknown };
      try {
        raw = JSON.parse(line) as { id?: unknown };
      } catch {
        throw new VmdeskError('INVALID_INPUT', 'Bad agent request: not JSON');
      }
      if (typeof raw.id === 'number') id = raw.id;
      const parsed = agentRequestSchema.safeParse(raw);
      if (!parsed.success) throw new VmdeskError('INVALID_INPUT', `Bad agent request: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      const result = await this.handle(parsed.data, socket);
      // A migration to another host streams to a unix socket; a live snapshot or a saved state also
      // uses `migrate`, to a file (exec:), and is no migration to settle.
      const uri = parsed.data.op === 'qmp' && parsed.data.command === 'migrate' ? parsed.data.args?.uri : undefined;
      if (typeof uri === 'string' && uri.startsWith('unix:')) this.watchMigrationDriver(socket);
      socket.write(JSON.stringify({ id, result }) + '\n');
    } catch (err) {
      socket.write(JSON.stringify({ id, error: toErrorShape(err) }) + '\n');
    }
  }

  private async handle(req: AgentRequest, socket: net.Socket): Promise<unknown> {
    // Requests to an adopting agent wait for the adoption (a few milliseconds): they are about a QEMU
    // that has been running all along.
    if (this.mode === 'adopt') await this.ready;
    switch (req.op) {
      case 'status':
        return this.status();
      case 'pause':
        this.requireRunningState('pause', ['running']);
        await this.requireQmp().execute('stop');
        return this.status();
      case 'resume':
        this.requireRunningState('resume', ['paused']);
        await this.requireQmp().execute('cont');
        return this.status();
      case 'reset':
        this.requireRunningState('reset', ['running', 'paused']);
        await this.requireQmp().execute('system_reset');
        return this.status();
      case 'shutdown':
        return this.shutdown(req.timeoutMs);
      case 'poweroff':
        return this.poweroff();
      case 'unload':
        return this.unload(socket);
      case 'relaunch':
        return this.relaunch(socket);
      case 'screendump':
        await this.requireQmp().execute('screendump', { filename: req.file, format: 'png' }, { timeoutMs: 30_000 });
        return { file: req.file };
      case 'qmp':
        return this.requireQmp().execute(req.command, req.args);
    }
  }

  private requireRunningState(action: string, allowed: string[]): void {
    const { state } = this.sm.snapshot;
    if (!allowed.includes(state)) throw new VmdeskError('INVALID_STATE', `Cannot ${action} ${this.launch.name}: it is ${state}`);
  }

  private waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async shutdown(timeoutMs: number): Promise<AgentStatus> {
    // A paused guest cannot see the ACPI power button, so shutdown needs a running guest.
    this.requireRunningState('shut down', ['running', 'stopping']);
    this.transition({ kind: 'shutdown-requested' });
    await this.requireQmp().execute('system_powerdown');
    if (await this.waitForExit(timeoutMs)) return this.status();
    this.transition({ kind: 'shutdown-timed-out' });
    throw new VmdeskError(
      'TIMEOUT',
      `${this.launch.name} did not shut down within ${Math.round(timeoutMs / 1000)} s: the guest may ignore the ACPI power button. Power it off instead (this may lose unsaved guest data).`,
      { canPowerOff: true },
    );
  }

  /**
   * The VMDesk that started an outgoing migration drives it to its end (pre-switchover, mirrors,
   * the destination's commit). If it dies midway, QEMU would wait paused before switchover forever:
   * the agent settles it so that never two copies run. Not yet completed: the migration is cancelled
   * and the guest continues here (the destination, whose stream broke, ends its QEMU). Completed: the
   * destination has the whole machine and continues it when it sees its link gone; this copy stays
   * paused and whole (ending it could leave none if the destination died too), for the user to end.
   */
  /**
   * An incoming migration belongs to the VMDesk that prepared it. If that process dies before the
   * guest was continued here, nobody will commit it: QEMU ends (the source, seeing the link gone,
   * keeps or takes back its guest), and the folder it was filling is swept as a dead owner's.
   */
  private watchIncomingOwner(): void {
    const owner = this.launch.incomingOwnerPid;
    if (!owner) return;
    const timer = setInterval(() => {
      if (this.exited || this.status().state === 'running') {
        clearInterval(timer);
        return;
      }
      if (isProcessAlive(owner)) return;
      clearInterval(timer);
      process.stderr.write('agent: the VMDesk receiving this migration went away before continuing it: QEMU ends\n');
      void this.poweroff();
    }, 1000);
    timer.unref();
  }

  private watchMigrationDriver(socket: net.Socket): void {
    const wasRunning = this.status().state === 'running';
    socket.once('close', () => {
      void (async () => {
        const qmp = this.qmp;
        if (!qmp || this.exited) return;
        const info = await qmp.execute<{ status?: string }>('query-migrate').catch(() => null);
        const status = info?.status;
        if (!status || status === 'failed' || status === 'cancelled' || status === 'none') return;
        if (status === 'completed') {
          process.stderr.write(
            'agent: the VMDesk driving an outgoing migration went away after the stream completed: the guest stays paused here ' +
              '(it runs on the destination if that took it over; power this copy off then)\n',
          );
          return;
        }
        process.stderr.write(
          `agent: the VMDesk driving an outgoing migration went away (${status}): cancelled, the guest continues here\n`,
        );
        await qmp.execute('migrate_cancel').catch(() => undefined);
        const jobs = await qmp.execute<Array<{ device: string }>>('query-block-jobs').catch(() => [] as Array<{ device: string }>);
        for (const job of jobs.filter((j) => j.device.startsWith('mig-')))
          await qmp.execute('block-job-cancel', { device: job.device, force: true }).catch(() => undefined);
        for (let i = 0; i < 100; i++) {
          const left = await qmp.execute<Array<{ device: string }>>('query-block-jobs').catch(() => [] as Array<{ device: string }>);
          if (!left.some((j) => j.device.startsWith('mig-'))) break;
          await sleep(20);
        }
        const nodes = await qmp.execute<Array<{ 'node-name'?: string }>>('query-named-block-nodes').catch(() => []);
        for (const node of new Set(nodes.map((n) => n['node-name'] ?? '').filter((n) => n.startsWith('mig-'))))
          await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
        const now = await qmp.execute<{ running: boolean }>('query-status').catch(() => null);
        if (wasRunning && now && !now.running) await qmp.execute('cont').catch(() => undefined);
      })();
    });
  }

  private async poweroff(): Promise<AgentStatus> {
    if (this.exited) return this.status();
    this.transition({ kind: 'poweroff-requested' });
    if (this.unloadedBy) return this.endUnloaded();
    await this.qmp?.execute('quit', undefined, { timeoutMs: 2_000 }).catch(() => undefined);
    if (!(await this.waitForExit(POWEROFF_GRACE_MS)) && this.qemuPid !== null) {
      process.kill(this.qemuPid, 'SIGKILL');
      await this.waitForExit(POWEROFF_GRACE_MS);
    }
    return this.status();
  }

  /**
   * A live snapshot restored in place, step one: QEMU quits and this agent stays, with its sockets and
   * clients, until the client that asked has switched the machine's files and asks `relaunch`. The
   * viewers are let go as when a machine stops (they come back to the restored console). Should that
   * client go first, the machine ends stopped.
   */
  private async unload(socket: net.Socket): Promise<AgentStatus> {
    this.requireRunningState('restore a snapshot of', ['running', 'paused']);
    if (this.unloadedBy) throw new VmdeskError('INVALID_STATE', `${this.launch.name} is already being restored`);
    this.unloadedBy = socket;
    socket.once('close', () => {
      if (this.unloadedBy === socket) void this.endUnloaded();
    });
    // state.json says starting (written while QEMU quits) before this answers: front ends see the restore.
    this.transition({ kind: 'relaunching' });
    for (const viewer of this.viewers) viewer.end();
    this.viewers.clear();
    this.scrollback = new Scrollback();
    this.pendingInput.length = 0;
    const { qmp, child, serial, qemuPid } = this;
    this.qmp = null;
    this.child = null;
    this.serial = null;
    this.qemuPid = null;
    serial?.destroy();
    await qmp?.execute('quit', undefined, { timeoutMs: 2_000 }).catch(() => undefined);
    if (!(await processGone(child, qemuPid, POWEROFF_GRACE_MS)) && qemuPid !== null) {
      process.kill(qemuPid, 'SIGKILL');
      await processGone(child, qemuPid, POWEROFF_GRACE_MS);
    }
    qmp?.close();
    if (this.launch.cpu) await releaseCpuPlan(this.launch.cpu).catch(() => undefined);
    for (const name of ['qmp', 'serial', 'vnc', 'qemuPid'] as const) await fsp.rm(this.file(name), { force: true });
    await this.stateWrites;
    return this.status();
  }

  /**
   * Step two: QEMU started from launch.json, rewritten by the client (the restored machine's argv and
   * RAM state), exactly as a start does it: the console it was saved with first in the scrollback,
   * caps and pinning before the guest runs, the state loaded, then continued. A QEMU that does not
   * come up ends this agent as a failed start would (crashed, with why).
   */
  private async relaunch(socket: net.Socket): Promise<AgentStatus> {
    if (this.unloadedBy !== socket) throw new VmdeskError('INVALID_STATE', `${this.launch.name} was not unloaded by this client`);
    const next = launchFileSchema.parse(JSON.parse(await fsp.readFile(this.file('launch'), 'utf8')));
    if (next.uuid !== this.launch.uuid) throw new VmdeskError('INVALID_INPUT', 'The new launch record is of another machine');
    this.unloadedBy = null;
    this.launch = next;
    this.mode = 'launch';
    this.startedAt = new Date().toISOString();
    await fsp.rm(this.file('scrollback'), { force: true });
    this.spawnQemu();
    await this.seedScrollback();
    try {
      await this.startQemu();
    } catch (err) {
      const { message } = toErrorShape(err);
      if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
      // Said to every client (the state, with QEMU's log), then the agent goes, as after a failed start.
      void this.onQemuExit(null, null, message);
      throw err;
    }
    return this.status();
  }

  /** A machine unloaded and never relaunched (its client went, or it was powered off meanwhile): stopped. */
  private endUnloaded(): AgentStatus {
    this.unloadedBy = null;
    this.transition({ kind: 'poweroff-requested' });
    void this.onQemuExit(null, null);
    return this.status();
  }

  private async onQemuExit(code: number | null, signal: NodeJS.Signals | null, failure?: string): Promise<void> {
    if (this.exited) return;
    this.exited = true;
    this.sm.apply({ kind: 'exited', code, signal });
    const status = this.status();
    if (failure && status.state === 'crashed') status.reason = failure;
    this.broadcast({ event: 'state', status });
    for (const wake of this.exitWaiters.splice(0)) wake();
    this.serial?.destroy();
    this.qmp?.close();
    if (status.state === 'crashed') await writeJsonAtomic(this.file('exit'), status).catch(() => undefined);
    if (this.launch.cpu) await releaseCpuPlan(this.launch.cpu).catch(() => undefined);
    await this.cleanup(status.state === 'stopped' ? 'all' : ['agent', 'console', 'qmp', 'serial', 'vnc', 'qemuPid', 'agentPid', 'state']);
  }

  /** Remove sockets and pid files (on a clean stop the whole runtime dir), let the clients go, exit. */
  private async cleanup(files: 'all' | ReadonlyArray<keyof typeof RUNTIME>): Promise<void> {
    // No new clients; the files go before the connected clients are let go, so a client that saw
    // the connection close (e.g. `vmdesk stop`) can start the machine again at once.
    const closing = Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    if (files === 'all') {
      await fsp.rm(this.runtimeDir, { recursive: true, force: true });
    } else {
      for (const name of files) await fsp.rm(this.file(name), { force: true });
    }
    for (const client of this.clients) client.end();
    for (const viewer of this.viewers) viewer.end();
    await closing;
    process.exit(0);
  }
}

/**
 * Feed a saved RAM state to a QEMU started with `-incoming defer` (`exec:cat FILE`, the path
 * single-quoted for the shell: QEMU 7.2 has no `file:` URI), then wait until QEMU has loaded it
 * all. The guest stays paused (-S) until the caller continues it.
 */
async function loadIncomingState(qmp: QmpClient, file: string): Promise<void> {
  await qmp.execute('migrate-incoming', { uri: `exec:cat '${file.replaceAll("'", `'\\''`)}'` });
  for (;;) {
    const info = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
    if (info.status === 'completed') return;
    if (info.status === 'failed' || info.status === 'cancelled')
      throw new VmdeskError('QEMU_FAILED', `Cannot load the saved state: ${info['error-desc'] ?? info.status}`);
    await sleep(10);
  }
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** pid + cmdline check before trusting a pid file: the process must be QEMU started for this uuid. */
export function isQemuOf(pid: number, uuid: string): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /qemu-system/.test(argv[0] ?? '') && argv.includes(uuid);
  } catch {
    return false;
  }
}

/** Connects to a unix socket, retrying until `retryUntil` while it does not exist yet. */
async function connectUnix(file: string, retryUntil = 0, givenUp: () => boolean = () => false): Promise<net.Socket> {
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.createConnection(file);
        socket.once('connect', () => {
          socket.removeListener('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (Date.now() >= retryUntil || givenUp() || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw err;
      await sleep(5);
    }
  }
}

/** Until a QEMU is gone (our child's exit, or an adopted pid no longer alive), at most `timeoutMs`; false if it is not. */
async function processGone(child: ChildProcess | null, pid: number | null, timeoutMs: number): Promise<boolean> {
  if (child) {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
  for (const deadline = Date.now() + timeoutMs; pid !== null && isProcessAlive(pid); await sleep(10))
    if (Date.now() > deadline) return false;
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
