/**
 * The hypervisor core: one object behind the CLI, the headless server and the desktop app.
 * Plain Node (never imports electron). Machine mutations take the machine's lock, so several
 * cores sharing a library never drive one machine twice.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { VmdeskError } from '../api/errors.js';
import type { MachineConfig } from '../api/machine-config.js';
import type { MachineSummary } from '../api/types.js';
import {
  deleteMachineInputSchema,
  sendTextInputSchema,
  shutdownInputSchema,
  startMachineInputSchema,
  type CreateMachineInput,
  type ModifyMachineInput,
  type StartMachineInput,
} from '../api/operations.js';
import { parseInput } from '../api/validation.js';
import { withLock } from './fs/lock-file.js';
import { getHostCapabilities, requireQemu, type HostCapabilities } from './host/capabilities.js';
import { Library, machineLockFile, type MachineRecord } from './library/library.js';
import { pinMachineType } from './machines/machine-type.js';
import { IncomingMigrations } from './migration/incoming.js';
import { sweepDebris } from './library/debris.js';
import { repairFromBackup, type RepairResult } from './machines/repair-machine.js';
import { createMachine, type CreateResult } from './machines/create-machine.js';
import { deleteMachine, modifyMachine, type ModifyResult } from './machines/modify-machine.js';
import { requireFirmwareBootsKernel } from './machines/media.js';
import { requireHostFile } from './fs/host-file.js';
import { inspectForeignImage } from './storage/foreign-image.js';
import { isInside } from './fs/path-inside.js';
import { NVRAM_FILE, libraryHome, machineLogs } from './paths.js';
import { buildQemuArgs, resolveMachinePath } from './qemu/qemu-args.js';
import { waitForLogText } from './console/serial-log.js';
import { CoreWatcher } from './watch/core-watcher.js';
import { TaskManager, type TaskInfo } from './tasks/task-manager.js';
import { VmRuntime, type RuntimeStatus, type StandbyAgent } from './vm/vm-runtime.js';
import { requireNoDependents } from './storage/image-users.js';
import { Snapshots, consumeSavedState, savedStateForStart, savedStateStartFailure } from './snapshots/snapshots.js';
import { hasSavedState } from './snapshots/store.js';
import { cancelStaleMigration } from './snapshots/ram-state.js';
import type { AgentStatus } from './agent/protocol.js';
import { isAgentLost, type AgentClient } from './agent/agent-client.js';
import { networkForStart } from './network/start-checks.js';
import { applyLiveResources, resourceHostProblems } from './resources/live.js';
import { cpuPlanForStart } from './resources/cpu-limits.js';
import { afterLaunch } from './resources/balloon.js';
import { ensureMemoryPolicy } from './resources/memory-policy.js';
import { StatsSampler } from './resources/sampler.js';
import { scheduledRunTasks } from './schedule/runs-log.js';
import { ensureScheduler } from './schedule/schedule-ops.js';
import { encryptedBackingChains, isEncrypted, requirePassphrase } from './storage/encryption.js';

export type { MachineSummary } from '../api/types.js';

export interface CoreEvents {
  machines: [];
  'machine-state': [{ uuid: string; status: RuntimeStatus }];
  task: [TaskInfo];
}

export interface CoreOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
}

export class Core extends EventEmitter<CoreEvents> {
  readonly library: Library;
  readonly runtime: VmRuntime;
  readonly tasks = new TaskManager();
  /** Machines arriving from another host by live migration (this host as the destination). */
  readonly incoming = new IncomingMigrations(this);
  /** Live figures (Performance views), sampled only while someone asks for them. */
  readonly sampler = new StatsSampler(this);
  /** Snapshots and saved states (suspend to disk). */
  readonly snapshots: Snapshots;
  readonly env: NodeJS.ProcessEnv;

  constructor(options: CoreOptions = {}) {
    super();
    this.env = options.env ?? process.env;
    this.library = new Library(options.home ?? libraryHome(this.env));
    this.runtime = new VmRuntime(this.env);
    this.tasks.on('task', (t) => this.emit('task', t));
    this.snapshots = new Snapshots({
      library: this.library,
      runtime: this.runtime,
      tasks: this.tasks,
      changed: (uuid) => {
        this.emit('machines');
        this.emitState(uuid);
      },
      relaunch: ({ config, dir }, agent) => this.launchMachine(config, dir, { into: agent }),
    });
  }

  private emitState(uuid: string): void {
    this.emit('machine-state', { uuid, status: this.runtime.status(uuid) });
  }

  host(): Promise<HostCapabilities> {
    return getHostCapabilities({ env: this.env });
  }

  /**
   * For long-lived cores (app, server): follow what other cores do to the library, and give a new
   * agent to any running QEMU whose agent died. Returns a function that stops watching.
   */
  async watch(): Promise<() => void> {
    const watcher = new CoreWatcher({
      library: this.library,
      env: this.env,
      machinesChanged: () => this.emit('machines'),
      stateChanged: (uuid) => this.emitState(uuid),
      // The scheduler's runs, from its log: shown in the task history as they begin and end.
      runsChanged: () => {
        for (const task of scheduledRunTasks(this.library.home).slice(0, 2).reverse()) this.emit('task', task);
      },
    });
    await watcher.start();
    await sweepDebris(this.library);
    await this.adoptOrphans();
    // A policy process killed while machines were squeezed: a long-lived core brings it back at once.
    await ensureMemoryPolicy(this).catch(() => undefined);
    // So does a scheduler killed (or not yet started after a reboot) while schedules exist.
    await ensureScheduler(this).catch(() => undefined);
    return () => watcher.stop();
  }

  async adoptOrphans(): Promise<string[]> {
    const adopted: string[] = [];
    for (const record of await this.library.list()) {
      if (!record.config || !this.runtime.status(record.uuid).orphaned) continue;
      const client = await this.runtime.connect(record.config, record.dir).catch(() => null);
      if (client) {
        client.close();
        adopted.push(record.config.name);
      }
    }
    return adopted;
  }

  async list(): Promise<MachineSummary[]> {
    const records = await this.library.list();
    return records.map((r) => this.summarize(r));
  }

  private summarize(record: MachineRecord): MachineSummary {
    const summary: MachineSummary = { uuid: record.uuid, dir: record.dir, config: record.config, status: this.runtime.status(record.uuid) };
    if (record.error) summary.error = record.error;
    if (record.broken) summary.broken = record.broken;
    if (hasSavedState(record.dir)) summary.savedState = true;
    return summary;
  }

  async get(nameOrUuid: string): Promise<MachineSummary & { config: MachineConfig }> {
    const record = await this.library.find(nameOrUuid);
    return { ...this.summarize(record), config: record.config };
  }

  /** One machine as `get` gives it, or a broken one (config null) with what is wrong and its backup. */
  async describe(nameOrUuid: string): Promise<MachineSummary> {
    const record = this.library.match(await this.library.list(), nameOrUuid);
    if (!record) throw new VmdeskError('NOT_FOUND', `No machine named "${nameOrUuid}"`);
    return this.summarize(record);
  }

  /** Put a broken machine's machine.json.bak back in place (the broken file is kept beside it). */
  async repairFromBackup(nameOrUuid: string): Promise<RepairResult> {
    const result = await repairFromBackup(this.library, nameOrUuid);
    this.emit('machines');
    return result;
  }

  /** Create a machine as a task; `result` settles when it is registered (or nothing was left). */
  create(input: CreateMachineInput): { task: TaskInfo; result: Promise<CreateResult> } {
    const name = typeof input.name === 'string' ? input.name : 'machine';
    return this.tasks.run(
      `Create ${name}`,
      async (ctx) => {
        const result = await createMachine(this.library, await this.host(), input, ctx);
        this.emit('machines');
        return result;
      },
      (created) => ({ uuid: created.config.uuid, name: created.config.name, warnings: created.warnings }),
    );
  }

  async modify(nameOrUuid: string, patch: ModifyMachineInput): Promise<ModifyResult> {
    const record = await this.library.find(nameOrUuid);
    return withLock(machineLockFile(record.dir), `changing ${record.config.name}`, async () => {
      const fresh = await this.refind(record);
      const running = this.runtime.isRunning(fresh.uuid);
      const result = await modifyMachine(this.library, await this.host(), fresh, patch, running, {
        applyLive: (before, next) => applyLiveResources(this, before, next),
        checkResources: (before, next) => resourceHostProblems(this, before, next),
      });
      this.emit('machines');
      return result;
    });
  }

  async delete(nameOrUuid: string, options: { keepDisks?: boolean } = {}): Promise<{ keptDisks: string | null }> {
    const { keepDisks } = parseInput(deleteMachineInputSchema, options, 'delete options');
    const record = await this.library.find(nameOrUuid);
    return withLock(machineLockFile(record.dir), `deleting ${record.config.name}`, async () => {
      const fresh = await this.refind(record);
      const status = this.runtime.status(fresh.uuid);
      if (this.runtime.isActive(status.state)) {
        throw new VmdeskError('INVALID_STATE', `${fresh.config.name} is ${status.state}: stop it before deleting it`);
      }
      // A base whose images linked clones rest on stays, with the clones named.
      await requireNoDependents(this.library, { uuid: fresh.uuid, dir: fresh.dir, name: fresh.config.name }, 'delete');
      await this.runtime.clear(fresh.uuid);
      const result = await deleteMachine(this.library, fresh, keepDisks);
      this.emit('machines');
      return result;
    });
  }

  async start(nameOrUuid: string, options: StartMachineInput = {}): Promise<AgentStatus> {
    const { passphrase } = parseInput(startMachineInputSchema, options, 'start options');
    const found = await this.library.find(nameOrUuid);
    const status = await withLock(machineLockFile(found.dir), `starting ${found.config.name}`, async () => {
      const { config: stored, dir } = await this.refind(found);
      const current = this.runtime.status(stored.uuid);
      if (this.runtime.isActive(current.state))
        throw new VmdeskError(
          'INVALID_STATE',
          `${stored.name} is already ${current.state}${current.orphaned && current.reason ? `: ${current.reason}` : ''}`,
        );
      return this.launchMachine(stored, dir, { passphrase });
    });
    this.emit('machine-state', { uuid: found.uuid, status: this.runtime.status(found.uuid) });
    return status;
  }

  /**
   * Checks what QEMU needs (memory, disk files, firmware, network), builds its argv from the config
   * and launches it under an agent; the caller holds the machine's lock. With `incomingMigration`,
   * QEMU waits (`-incoming defer`) for a migration stream and is not continued; `ramKiB` is then the
   * source QEMU's RAM size when it differs from the config's. With `into`, a client of the machine's
   * agent that has unloaded its QEMU (a live snapshot restored): that agent relaunches it in place.
   */
  async launchMachine(
    stored: MachineConfig,
    dir: string,
    {
      incomingMigration = false,
      ramKiB,
      into,
      passphrase,
      standby,
    }: { incomingMigration?: boolean; ramKiB?: number; into?: AgentClient; passphrase?: string; standby?: StandbyAgent } = {},
  ): Promise<AgentStatus> {
    const host = await this.host();
    const qemu = requireQemu(host);
    const config = await pinMachineType(stored, dir, qemu);
    const accel = host.preferredAccel ?? 'tcg';
    if (config.memoryMiB > host.memoryMiB)
      throw new VmdeskError('INVALID_INPUT', `${config.name} needs ${config.memoryMiB} MiB but this host has ${host.memoryMiB} MiB`);
    for (const disk of config.disks) {
      const file = resolveMachinePath(dir, disk.file);
      await requireHostFile(file, `disk ${disk.id}`);
      // An image kept elsewhere is not VMDesk's: whoever can write it may have changed what it names.
      if (!isInside(dir, file))
        await inspectForeignImage(file, { what: `disk ${disk.id}`, format: disk.format, trustedBacking: disk.trustedBacking ?? [] });
    }
    if (config.cdrom?.file) await requireHostFile(resolveMachinePath(dir, config.cdrom.file), 'ISO image', 'allow');
    if (config.kernelBoot) {
      await requireHostFile(resolveMachinePath(dir, config.kernelBoot.kernel), 'kernel');
      await requireFirmwareBootsKernel(
        config.firmware,
        resolveMachinePath(dir, config.kernelBoot.kernel),
        config.name,
        config.kernelBoot.kernel,
      );
      if (config.kernelBoot.initrd) await requireHostFile(resolveMachinePath(dir, config.kernelBoot.initrd), 'initrd');
    }
    let uefi: { code: string; vars: string } | undefined;
    if (config.firmware === 'uefi') {
      const { ovmfCode, ovmfVars } = host.firmware;
      if (!ovmfCode || !ovmfVars)
        throw new VmdeskError('HOST_UNSUPPORTED', 'UEFI firmware (OVMF) is not installed: run `sudo apt-get install ovmf`');
      const vars = path.join(dir, NVRAM_FILE);
      if (
        !(await fs.stat(vars).then(
          () => true,
          () => false,
        ))
      )
        await fs.copyFile(ovmfVars, vars);
      uefi = { code: ovmfCode, vars };
    }
    // Bridges, the bridge helper and NAT host ports are checked, and internal switches started, before QEMU.
    const network = await networkForStart(config, { qemuBinary: qemu.binary, env: this.env });
    // Encrypted disks: a wrong passphrase is refused here, before anything runs (a relaunching agent has it).
    if (!into) await requirePassphrase(config, dir, passphrase);
    const savedState = incomingMigration ? null : await savedStateForStart(dir, config);
    const stateRamKiB = ramKiB ?? savedState?.ramKiB;
    const rt = (name: 'qmp' | 'serial' | 'vnc' | 'qemuPid' | 'secret'): string => this.runtime.file(config.uuid, name);
    const logs = machineLogs(dir);
    const backingChains = await encryptedBackingChains(config, dir);
    const args = buildQemuArgs({
      config,
      machineDir: dir,
      accel,
      runtime: { qmp: rt('qmp'), serial: rt('serial'), vnc: rt('vnc'), qemuPid: rt('qemuPid'), secret: rt('secret') },
      serialLog: logs.serial,
      ...(uefi ? { uefi } : {}),
      ...network,
      // A state or a stream loads only into RAM of the size it was saved or sent with (TCG's pad or not).
      ...(stateRamKiB ? { ramKiB: stateRamKiB } : {}),
      backingChains,
    });
    // Caps, shares and pinning: applied by the agent before the guest runs (refused here when they cannot be).
    const cpu = await cpuPlanForStart(config, this.env);
    // Resuming a saved state: QEMU waits for the RAM state, which the agent feeds it before `cont`.
    // Receiving a migration: the same argv as on the source, waiting for migrate-incoming.
    if (savedState || incomingMigration) args.push('-incoming', 'defer');
    const { client, status: started } = await this.runtime
      .launch(
        {
          uuid: config.uuid,
          name: config.name,
          qemuBinary: qemu.binary,
          args,
          machineDir: dir,
          qemuLog: logs.qemu,
          serialLog: logs.serial,
          serial: config.serial.enabled,
          accel,
          linksDown: config.nics.filter((n) => !n.cable).map((n) => n.id),
          // The console kept with the state comes first in the agent's scrollback: viewers see the screen as it was.
          ...(savedState ? { incoming: { file: savedState.file, console: savedState.console ?? undefined } } : {}),
          ...(incomingMigration ? { incomingMigration: true, incomingOwnerPid: process.pid } : {}),
          ...(cpu ? { cpu } : {}),
          ...(isEncrypted(config) ? { encrypted: true } : {}),
        },
        into,
        passphrase,
        standby,
      )
      .catch((err: unknown) => {
        throw savedState ? savedStateStartFailure(config.name, err) : err;
      });
    if (savedState) await consumeSavedState(dir);
    try {
      await afterLaunch(client, config, this.runtime.dir(config.uuid));
    } finally {
      if (!into) client.close();
    }
    // A machine relaunched in place ran all along: the memory policy and the scheduler know it already.
    if (into) return started;
    await ensureMemoryPolicy(this).catch(() => undefined);
    await ensureScheduler(this).catch(() => undefined);
    return started;
  }

  /**
   * A machine's record read again under its lock: another process may have deleted or moved it
   * between the lookup and the lock. Either is a state the caller lost a race to, not a missing name.
   */
  private async refind(record: MachineRecord & { config: MachineConfig }): Promise<MachineRecord & { config: MachineConfig }> {
    const fresh = await this.library.find(record.uuid).catch((err: unknown) => {
      if (err instanceof VmdeskError && err.code === 'NOT_FOUND')
        throw new VmdeskError('INVALID_STATE', `${record.config.name} was deleted by another VMDesk process meanwhile`);
      throw err;
    });
    if (fresh.dir !== record.dir)
      throw new VmdeskError('INVALID_STATE', `${record.config.name} was moved by another VMDesk process meanwhile: try again`);
    return fresh;
  }

  /**
   * Run one agent request on a running machine. An agent that dies under the request (killed, while
   * QEMU runs on) is replaced and the request made once more; `done` says whether the machine is
   * already where the request would take it (the first try reached QEMU before its agent died).
   */
  private async withAgent<T>(
    nameOrUuid: string,
    fn: (client: AgentClient, config: MachineConfig) => Promise<T>,
    done?: (status: AgentStatus) => T | null,
  ): Promise<T> {
    const record = await this.library.find(nameOrUuid);
    const once = async (retry: boolean): Promise<T> => {
      const client = await this.runtime.connect(record.config, record.dir);
      try {
        if (retry && done) {
          const already = done(await client.request<AgentStatus>({ op: 'status' }));
          if (already !== null) return already;
        }
        return await fn(client, record.config);
      } finally {
        client.close();
      }
    };
    try {
      return await once(false);
    } catch (err) {
      if (!isAgentLost(err) || !this.runtime.isRunning(record.uuid)) throw err;
      await this.runtime.agentGone(record.uuid, 3_000);
      return once(true);
    }
  }

  /** ACPI shutdown, waiting up to timeoutMs; with force, power off at once. */
  shutdown(nameOrUuid: string, options: { force?: boolean; timeoutMs?: number } = {}): Promise<AgentStatus> {
    const { force, timeoutMs } = parseInput(shutdownInputSchema, options, 'shutdown options');
    return this.withAgent(nameOrUuid, async (client) => {
      const status = force
        ? await client.request<AgentStatus>({ op: 'poweroff' }, 20_000)
        : await client.request<AgentStatus>({ op: 'shutdown', timeoutMs }, timeoutMs + 5_000);
      // Stopped means cleaned up: the agent closes the connection once its runtime files are gone.
      if (status.exited) await client.whenClosed(5_000);
      return status;
    });
  }

  pause(nameOrUuid: string): Promise<AgentStatus> {
    return this.withAgent(
      nameOrUuid,
      (c) => c.request<AgentStatus>({ op: 'pause' }),
      (s) => (s.state === 'paused' ? s : null),
    );
  }

  resume(nameOrUuid: string): Promise<AgentStatus> {
    return this.withAgent(
      nameOrUuid,
      (c) => c.request<AgentStatus>({ op: 'resume' }),
      (s) => (s.state === 'running' ? s : null),
    );
  }

  /**
   * Continues a guest that a killed VMDesk process left paused in the middle of a live snapshot:
   * under the machine's lock, the RAM save that process began (still streaming in QEMU) is
   * cancelled first, then the guest continues.
   */
  async resumeInterrupted(nameOrUuid: string): Promise<AgentStatus> {
    const record = await this.library.find(nameOrUuid);
    return withLock(machineLockFile(record.dir), `resuming ${record.config.name}`, () =>
      this.withAgent(
        record.uuid,
        async (c) => {
          await cancelStaleMigration(c);
          return c.request<AgentStatus>({ op: 'resume' });
        },
        (s) => (s.state === 'running' ? s : null),
      ),
    );
  }

  reset(nameOrUuid: string): Promise<AgentStatus> {
    return this.withAgent(nameOrUuid, (c) => c.request<AgentStatus>({ op: 'reset' }));
  }

  /** Press keys together on the guest keyboard (QMP send-key), e.g. ctrl-alt-delete. */
  sendKeys(nameOrUuid: string, keys: string[]): Promise<void> {
    const valid = keys.length > 0 && keys.length <= 8 && keys.every((k) => /^[a-z0-9_]{1,16}$/.test(k));
    if (!valid) return Promise.reject(new VmdeskError('INVALID_INPUT', `Invalid key combination: ${keys.join('-').slice(0, 80)}`));
    return this.withAgent(nameOrUuid, async (client) => {
      await client.qmp('send-key', { keys: keys.map((data) => ({ type: 'qcode', data })) });
    });
  }

  /** A PNG of the guest display, written to `file` (QEMU writes into the runtime dir first). */
  async screenshot(nameOrUuid: string, file: string): Promise<void> {
    await this.withAgent(nameOrUuid, async (client, config) => {
      if (config.display.adapter === 'none') throw new VmdeskError('INVALID_STATE', `${config.name} has no display`);
      const tmp = path.join(this.runtime.dir(config.uuid), `screendump-${process.pid}-${Date.now()}.png`);
      try {
        await client.request({ op: 'screendump', file: tmp });
        await fs.copyFile(tmp, file);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    });
  }

  /** The console socket of a running machine (raw bytes: scrollback, then live output; input is typed). */
  async consoleSocket(nameOrUuid: string): Promise<string> {
    return this.withAgent(nameOrUuid, (_client, config) => {
      if (!config.serial.enabled) return Promise.reject(new VmdeskError('INVALID_STATE', `${config.name} has no serial console`));
      return Promise.resolve(this.runtime.file(config.uuid, 'console'));
    });
  }

  /** The serial output QEMU has logged (every boot), or its last `maxBytes`. */
  async serialLog(nameOrUuid: string, maxBytes = 1024 * 1024): Promise<Buffer> {
    const record = await this.library.find(nameOrUuid);
    const file = machineLogs(record.dir).serial;
    const data = await fs.readFile(file).catch(() => Buffer.alloc(0));
    return data.subarray(Math.max(0, data.length - maxBytes));
  }

  /**
   * Resolve when `text` shows on the serial console of the current boot (or, with fromNow, in output
   * that comes after this call).
   */
  async waitForText(
    nameOrUuid: string,
    text: string,
    options: { timeoutMs: number; fromNow?: boolean; signal?: AbortSignal },
  ): Promise<void> {
    const record = await this.library.find(nameOrUuid);
    const file = machineLogs(record.dir).serial;
    const status = this.runtime.status(record.uuid);
    if (!this.runtime.isActive(status.state))
      throw new VmdeskError('INVALID_STATE', `${record.config.name} is not running (it is ${status.state})`);
    const start = options.fromNow
      ? await fs.stat(file).then(
          (s) => s.size,
          () => 0,
        )
      : await this.runtime.bootLogOffset(record.uuid);
    await waitForLogText(file, start, text, {
      timeoutMs: options.timeoutMs,
      isRunning: () => this.runtime.isRunning(record.uuid),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Type text into the serial console; `\n` becomes Enter. */
  async sendText(nameOrUuid: string, text: string): Promise<void> {
    const bytes = Core.encodeTyping(text);
    const socketPath = await this.consoleSocket(nameOrUuid);
    await new Promise<void>((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.on('error', reject);
      socket.on('connect', () => {
        socket.end(bytes, () => resolve());
      });
      // The scrollback the agent sends to every viewer is not wanted here.
      socket.resume();
    });
  }

  static encodeTyping(text: string): Buffer {
    return Buffer.from(parseInput(sendTextInputSchema, text, 'text').replaceAll('\n', '\r'), 'utf8');
  }
}
