/**
 * The core's side of running machines: derive a machine's state from its runtime dir (pid files
 * and the agent's state.json, never stored in the config), start one by launching its agent, and
 * reach a running one through its agent — re-adopting a QEMU whose agent died (pid + cmdline check,
 * QMP reconnect by a fresh agent).
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig, MachineState } from '../../api/machine-config.js';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { isProcessAlive, withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';
import { RUNTIME, SOCKET_PATH_MAX, machineLogs, runtimeDir } from '../paths.js';
import { AGENT_LOST, AgentClient } from '../agent/agent-client.js';
import { isQemuOf } from '../agent/agent.js';
import { STANDBY_FLAG, STANDBY_GO, stateFileSchema, type AgentStatus, type LaunchFile } from '../agent/protocol.js';
import type { RuntimeStatus } from '../../api/types.js';

export type { RuntimeStatus } from '../../api/types.js';

const AGENT_START_TIMEOUT_MS = 15_000;

/** A relaunch in place loads the RAM state before it answers: a large guest on a slow disk takes a while. */
const RELAUNCH_TIMEOUT_MS = 600_000;

/** An agent started ahead of its launch (see VmRuntime.standby). */
export interface StandbyAgent {
  readonly pid: number;
  readonly exited: boolean;
  /** It exits without launching anything. */
  cancel(): void;
  /** It launches from the launch.json now written (with the passphrase of encrypted disks). */
  go(passphrase?: string): void;
}

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function readStateFile(file: string): AgentStatus | null {
  try {
    const parsed = stateFileSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** QEMU's start failed: its reason and the end of its log. */
function startFailure(status: AgentStatus): VmdeskError {
  const tail = status.logTail ? `\n${status.logTail}` : '';
  return new VmdeskError('QEMU_FAILED', `QEMU failed to start: ${status.reason ?? 'unknown reason'}${tail}`, { logTail: status.logTail });
}

/**
 * Every live QEMU process started for this machine by a VMDesk of this runtime dir (its uuid and its
 * sockets there on the command line). A QEMU of the same machine under another runtime dir is another
 * VMDesk's: the source of a migration between two libraries of one computer, say.
 */
function qemuProcessesOf(uuid: string, runtimeDir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => isQemuOf(pid, uuid) && commandLineMentions(pid, `${runtimeDir}/`));
}

function commandLineMentions(pid: number, text: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** The agent's program: the bundle (fast to start) of the package this module belongs to. */
export function agentEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const bundle = path.join(dir, 'bin', 'vmdesk-agent.cjs');
      if (fs.existsSync(path.join(dir, 'dist', 'bundle', 'agent.cjs'))) return bundle;
      break;
    }
  }
  throw new VmdeskError('INTERNAL', 'The VM agent is not built: run `npm run build`');
}

export class VmRuntime {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  dir(uuid: string): string {
    return runtimeDir(uuid, this.env);
  }

  file(uuid: string, name: keyof typeof RUNTIME): string {
    return path.join(this.dir(uuid), RUNTIME[name]);
  }

  /** Derived from files only: cheap enough for `vmdesk list` over hundreds of machines. */
  status(uuid: string): RuntimeStatus {
    const dir = this.dir(uuid);
    if (!fs.existsSync(dir)) return { state: 'stopped' };
    const agentPid = readPid(path.join(dir, RUNTIME.agentPid));
    const qemuPid = readPid(path.join(dir, RUNTIME.qemuPid));
    const saved = readStateFile(path.join(dir, RUNTIME.state));
    const qemuAlive = qemuPid !== null && isProcessAlive(qemuPid) && isQemuOf(qemuPid, uuid);
    if (agentPid !== null && isProcessAlive(agentPid) && saved) {
      return this.fromSaved(saved, { orphaned: false });
    }
    if (qemuAlive) {
      return saved ? this.fromSaved(saved, { orphaned: true }) : { state: 'running', qemuPid, orphaned: true };
    }
    const exit = readStateFile(path.join(dir, RUNTIME.exit));
    if (exit) return this.fromSaved(exit, { orphaned: false });
    if (saved && saved.state !== 'stopping') {
      return { state: 'crashed', reason: 'QEMU and its agent are gone without a clean shutdown' };
    }
    return { state: 'stopped' };
  }

  private fromSaved(saved: AgentStatus, extra: { orphaned: boolean }): RuntimeStatus {
    const status: RuntimeStatus = { state: saved.state, accel: saved.accel, startedAt: saved.startedAt };
    if (saved.reason) status.reason = saved.reason;
    if (saved.logTail) status.logTail = saved.logTail;
    if (saved.qemuPid !== null) status.qemuPid = saved.qemuPid;
    if (extra.orphaned) status.orphaned = true;
    return status;
  }

  isActive(state: MachineState): boolean {
    return state === 'starting' || state === 'running' || state === 'paused' || state === 'stopping';
  }

  /** The machine has a QEMU now (starting, running, paused or stopping), as its runtime files say. */
  isRunning(uuid: string): boolean {
    return this.isActive(this.status(uuid).state);
  }

  /** Where the current boot starts in serial.log (recorded at launch). */
  async bootLogOffset(uuid: string): Promise<number> {
    try {
      const launch = JSON.parse(await fsp.readFile(this.file(uuid, 'launch'), 'utf8')) as { serialLogStart?: unknown };
      return typeof launch.serialLogStart === 'number' ? launch.serialLogStart : 0;
    } catch {
      return 0;
    }
  }

  /** Forget a crashed machine's last exit so it shows as stopped. */
  async clear(uuid: string): Promise<void> {
    await fsp.rm(this.dir(uuid), { recursive: true, force: true });
  }

  checkSocketPaths(uuid: string): void {
    const longest = this.file(uuid, 'console');
    if (Buffer.byteLength(longest) > SOCKET_PATH_MAX) {
      throw new VmdeskError(
        'HOST_UNSUPPORTED',
        `The runtime directory path is too long for unix sockets (${longest}); set VMDESK_RUNTIME_DIR to a shorter directory`,
      );
    }
  }

  /**
   * Launch the agent, which launches QEMU paused, connects, then continues it. With `into`, a client
   * of the machine's agent that has unloaded its QEMU (a live snapshot restored in place): that agent
   * launches the new QEMU itself, keeping its process, sockets and clients.
   */
  async launch(
    launch: Omit<LaunchFile, 'serialLogStart'>,
    into?: AgentClient,
    passphrase?: string,
    standby?: StandbyAgent,
  ): Promise<{ client: AgentClient; status: AgentStatus }> {
    if (into) return this.relaunch(into, launch);
    const dir = this.dir(launch.uuid);
    this.checkSocketPaths(launch.uuid);
    // The runtime dir said stopped, but a QEMU of this machine that VMDesk lost track of (its pid file
    // gone) would get a second QEMU on its disks, and its sockets removed below.
    const lost = qemuProcessesOf(launch.uuid, dir);
    if (lost.length > 0)
      throw new VmdeskError(
        'INVALID_STATE',
        `${launch.name} still runs in QEMU (pid ${lost.join(', ')}), which VMDesk has lost track of: end it with \`kill ${lost.join(' ')}\` before starting it again`,
      );
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsp.chmod(path.dirname(dir), 0o700).catch(() => undefined);
    await fsp.mkdir(path.dirname(machineLogs(launch.machineDir).serial), { recursive: true });
    await this.writeLaunchFile(launch);
    return this.spawnAgent(launch.uuid, launch.machineDir, passphrase, standby);
  }

  /** launch.json, with where this boot starts in serial.log (a re-adopting agent's scrollback starts there). */
  private async writeLaunchFile(launch: Omit<LaunchFile, 'serialLogStart'>): Promise<void> {
    const serialLogStart = await fsp.stat(machineLogs(launch.machineDir).serial).then(
      (s) => s.size,
      () => 0,
    );
    await writeJsonAtomic(this.file(launch.uuid, 'launch'), { ...launch, serialLogStart } satisfies LaunchFile);
  }

  /** The agent behind `client` starts QEMU again from the new launch.json; settles as a launch does. */
  private async relaunch(
    client: AgentClient,
    launch: Omit<LaunchFile, 'serialLogStart'>,
  ): Promise<{ client: AgentClient; status: AgentStatus }> {
    await this.writeLaunchFile(launch);
    // A QEMU that fails to come up is told as a failed launch is (the agent's last state, with QEMU's log).
    const settled = this.waitSettled(client, launch.uuid);
    const asked = client.request<AgentStatus>({ op: 'relaunch' }, RELAUNCH_TIMEOUT_MS);
    const [status] = await Promise.all([settled, asked]);
    return { client, status };
  }

  /**
   * An agent process started ahead of its launch (a migration's destination, while the files are
   * still on their way): Node starts and loads the agent's code now, then waits on its fd 3 until
   * `launch` is given it with this standby. Cancelled (or its parent gone), it exits without
   * touching anything.
   */
  standby(uuid: string, machineDir: string): StandbyAgent {
    this.checkSocketPaths(uuid);
    fs.mkdirSync(path.dirname(machineLogs(machineDir).agent), { recursive: true });
    const agent = this.spawnAgentProcess(uuid, machineDir, { pipe: true, standby: true });
    return {
      pid: agent.pid,
      get exited() {
        return agent.exited();
      },
      cancel: () => agent.pipe?.end(),
      go: (passphrase) => agent.pipe?.end(`${STANDBY_GO}${passphrase ?? ''}`),
    };
  }

  /** The agent's process, detached; `pipe` its fd 3 (a passphrase, or a standby's word to go). */
  private spawnAgentProcess(
    uuid: string,
    machineDir: string,
    { pipe, standby = false }: { pipe: boolean; standby?: boolean },
  ): { pid: number; pipe: Writable | null; exited: () => boolean } {
    const log = fs.openSync(machineLogs(machineDir).agent, 'a');
    const child = spawn(process.execPath, [agentEntry(), this.dir(uuid), ...(standby ? [STANDBY_FLAG] : [])], {
      detached: true,
      stdio: pipe ? ['ignore', log, log, 'pipe'] : ['ignore', log, log],
      env: { ...this.env, NODE_OPTIONS: '' },
    });
    fs.closeSync(log);
    const secretPipe = (child.stdio[3] as Writable | null | undefined) ?? null;
    secretPipe?.on('error', () => undefined);
    let agentExited = false;
    child.on('exit', () => {
      agentExited = true;
    });
    child.unref();
    return { pid: child.pid ?? 0, pipe: secretPipe, exited: () => agentExited };
  }

  /**
   * With `passphrase` (encrypted disks), the agent reads it from its fd 3, a pipe: never an argument
   * or a file. With `standby`, the agent started ahead goes on instead of a new one.
   */
  private async spawnAgent(
    uuid: string,
    machineDir: string,
    passphrase?: string,
    standby?: StandbyAgent,
  ): Promise<{ client: AgentClient; status: AgentStatus }> {
    const dir = this.dir(uuid);
    let isAlive: () => boolean;
    // A standby agent that ended meanwhile (killed, say) is replaced by a new one: it only saves time.
    if (standby && !standby.exited) {
      standby.go(passphrase);
      isAlive = () => !standby.exited;
    } else {
      const agent = this.spawnAgentProcess(uuid, machineDir, { pipe: passphrase !== undefined });
      agent.pipe?.end(passphrase);
      isAlive = () => !agent.exited();
    }
    const client = await AgentClient.connectWithRetry(path.join(dir, RUNTIME.agent), AGENT_START_TIMEOUT_MS, isAlive).catch(() => {
      throw this.exitFailure(uuid) ?? new VmdeskError('QEMU_FAILED', `The VM agent did not start; see ${machineLogs(machineDir).agent}`);
    });
    const status = await this.waitSettled(client, uuid);
    return { client, status };
  }

  /**
   * A QEMU that failed at once (an image locked by another) can end its agent before its last state
   * reaches us, or before we reach it at all: the agent's last word is then its exit file, with
   * QEMU's reason. Null when there is none.
   */
  private exitFailure(uuid: string): VmdeskError | null {
    const exit = readStateFile(path.join(this.dir(uuid), RUNTIME.exit));
    return exit ? startFailure(exit) : null;
  }

  /** Wait until the machine leaves 'starting' (or the agent goes away); an adopting agent answers once adopted. */
  private waitSettled(client: AgentClient, uuid: string): Promise<AgentStatus> {
    return new Promise((resolve, reject) => {
      let last: AgentStatus | null = null;
      const check = (status: AgentStatus): void => {
        last = status;
        if (status.exited && this.isActive(status.state)) {
          // An adopting agent that cannot reach a QEMU which still runs: the machine runs, unreachable.
          cleanup();
          reject(new VmdeskError('INVALID_STATE', status.reason ?? `${status.name} runs but VMDesk cannot reach it`));
        } else if (status.exited || status.state === 'crashed') {
          cleanup();
          reject(startFailure(status));
        } else if (status.state !== 'starting') {
          cleanup();
          resolve(status);
        }
      };
      const onClose = (): void => {
        cleanup();
        reject(this.exitFailure(uuid) ?? new VmdeskError('QEMU_FAILED', `QEMU failed to start${last?.reason ? `: ${last.reason}` : ''}`));
      };
      const cleanup = (): void => {
        client.off('state', check);
        client.off('close', onClose);
      };
      client.on('state', check);
      client.on('close', onClose);
      client.request<AgentStatus>({ op: 'status' }).then(check, () => undefined);
    });
  }

  /** Until the machine's agent process is gone (it was killed and is dying), at most `timeoutMs`. */
  async agentGone(uuid: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pid = readPid(this.file(uuid, 'agentPid'));
      if (pid === null || !isProcessAlive(pid) || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A client for a running machine; a QEMU left without agent gets a new one first. */
  async connect(config: MachineConfig, machineDir: string): Promise<AgentClient> {
    const status = this.status(config.uuid);
    if (!this.isActive(status.state)) throw new VmdeskError('INVALID_STATE', `${config.name} is not running (it is ${status.state})`);
    if (status.orphaned) {
      // Under the machine lock, so two cores never give one QEMU two agents.
      return withLock(machineLockFile(machineDir), `re-adopting ${config.name}`, async () => {
        if (!this.status(config.uuid).orphaned) return AgentClient.connect(this.file(config.uuid, 'agent'));
        return (await this.spawnAgent(config.uuid, machineDir)).client;
      });
    }
    try {
      return await AgentClient.connect(this.file(config.uuid, 'agent'));
    } catch {
      throw new VmdeskError('INVALID_STATE', `${config.name} is not reachable: its agent does not answer`, AGENT_LOST);
    }
  }
}
