/**
 * The core behind the API contract: what the desktop app and `vmdesk serve` expose. Arguments reach
 * it already validated by `dispatch`; events are the core's, forwarded to every subscriber.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { API_ARGUMENTS, HOST_MANAGEMENT_METHODS, isApiMethod } from '../api/contract.js';
import type { ApiEventName, ApiEvents, ApiResults, LogKind, VmdeskApi } from '../api/contract.js';
import { dispatch } from '../api/dispatch.js';
import { API_VERSION, LOCAL_HOST, VMDESK_VERSION, hostNameSchema, type AddHostInput, type HostEntry } from '../api/hosts.js';
import { describeIssues } from '../api/validation.js';
import { streamTarget, type ConsoleKind } from './console/stream-target.js';
import { HostManager } from './hosts/host-manager.js';
import { createApiProxy } from '../api/proxy.js';
import type { IncomingInput, MigrateOptions } from '../api/migration.js';
import { migrateTask, preflightProblems, type Destination } from './migration/outgoing.js';
import type { CreateMachineInput, ModifyMachineInput, StartMachineInput } from '../api/operations.js';
import { VmdeskError } from '../api/errors.js';
import type { SnapshotKeyInput, TakeSnapshotInput } from '../api/snapshots.js';
import type { TaskInfo } from '../api/types.js';
import type { Core } from './core.js';
import { machineLogs } from './paths.js';
import type { ImportOptions, V2pOptions } from '../api/portability.js';
import { inspectAppliance, runExport, runImport, runP2v, runV2p } from './portability/operations.js';
import type { AddDiskInput, CloneMachineInput } from '../api/storage.js';
import { cloneMachineTask, moveMachineTask } from './clone/clone-ops.js';
import { passphraseSchema } from '../api/machine-config.js';
import { parseInput } from '../api/validation.js';
import { isEncrypted, requirePassphrase } from './storage/encryption.js';
import type { PortForwardInput, SetNicInput } from '../api/network.js';
import { addPortForwardOp, networkHostOp, removePortForwardOp, setNicOp } from './network/network-ops.js';
import type { KsmInput, MemoryPolicyInput } from '../api/resources.js';
import { machineMemory, setMemoryTarget } from './resources/balloon.js';
import { cgroupSupport, machineCpu } from './resources/cpu-limits.js';
import { ksmStatus, setKsm } from './resources/ksm.js';
import { memoryPolicyStatus, setMemoryPolicy } from './resources/memory-policy.js';
import type { ScheduleInput } from '../api/schedule.js';
import { RUN_TASK_PREFIX, scheduledRunTasks } from './schedule/runs-log.js';
import { scheduleStatus, setSchedule } from './schedule/schedule-ops.js';
import { addDiskOp, changeMediumOp, listMediaOp, removeDiskOp, resizeDiskOp } from './storage/storage-ops.js';
import type { BackupInput, BackupRestoreInput, BackupSource, BackupVerifyInput } from '../api/backup.js';
import { backupTask, listBackups, restoreBackupTask, verifyBackupsTask } from './backup/backup-ops.js';

/** A task's outcome is reported by its events; nothing waits on the promise here. */
function detached(run: { task: TaskInfo; result: Promise<unknown> }): TaskInfo {
  run.result.catch(() => undefined);
  return run.task;
}

/** A portability task runs on; its outcome is reported by its events. */
function background(run: { task: ApiResults['importAppliance']; result: Promise<unknown> }): ApiResults['importAppliance'] {
  run.result.catch(() => undefined);
  return run.task;
}

/** An event of this computer's core (no host), or of a remote host's, tagged with its name. */
export type EventSink = <E extends ApiEventName>(event: E, data: ApiEvents[E], host?: string) => void;

/** The core's part of the contract: the rest belongs to each front end (where streams are served, its menu). */
export type CoreApi = Omit<VmdeskApi, 'streamEndpoint' | 'setMenuLanguage'>;

export class CoreService implements CoreApi {
  private hostManager: HostManager | null = null;

  constructor(private readonly core: Core) {}

  /** The remote hosts, made on first use: a CLI command that never asks for them never reads hosts.json. */
  get hosts(): HostManager {
    this.hostManager ??= new HostManager({ home: this.core.library.home, env: this.core.env });
    return this.hostManager;
  }

  /**
   * An operation for `host` (absent or "local": this computer), validated against the contract here
   * before it goes anywhere; a remote host's VMDesk validates it again.
   */
  async call(host: string | undefined, method: unknown, args: unknown, api: VmdeskApi): Promise<unknown> {
    if (host === undefined || host === LOCAL_HOST) return dispatch(api, method, args);
    if (typeof host !== 'string' || !hostNameSchema.safeParse(host).success)
      throw new VmdeskError('INVALID_INPUT', 'The host of a request must be the name of a host');
    if (!isApiMethod(method)) return dispatch(api, method, args);
    if (HOST_MANAGEMENT_METHODS.has(method))
      throw new VmdeskError('INVALID_INPUT', `${method} is answered by this computer: send it without a host`);
    const parsed = API_ARGUMENTS[method].safeParse(args ?? []);
    if (!parsed.success) throw new VmdeskError('INVALID_INPUT', `Invalid arguments for ${method}: ${describeIssues(parsed.error.issues)}`);
    return this.hosts.call(host, method, args as unknown[]);
  }

  /** Forward the core's events, and the remote hosts' (tagged), to `sink`; returns a function that stops forwarding. */
  subscribe(sink: EventSink): () => void {
    const onMachines = (): void => sink('machines', null);
    const onState = (e: ApiEvents['machine-state']): void => sink('machine-state', e);
    const onTask = (t: ApiEvents['task']): void => sink('task', t);
    const onHosts = (): void => sink('hosts', null);
    const onRemote = (host: string, name: ApiEventName, data: unknown): void => sink(name, data as never, host);
    this.core.on('machines', onMachines);
    this.core.on('machine-state', onState);
    this.core.on('task', onTask);
    this.hosts.on('hosts', onHosts);
    this.hosts.on('event', onRemote);
    return () => {
      this.core.off('machines', onMachines);
      this.core.off('machine-state', onState);
      this.core.off('task', onTask);
      this.hosts.off('hosts', onHosts);
      this.hosts.off('event', onRemote);
    };
  }

  host(): Promise<ApiResults['host']> {
    return this.core.host();
  }

  async hostDetails(): Promise<ApiResults['hostDetails']> {
    const [host, machines] = await Promise.all([this.core.host(), this.core.list()]);
    const home = this.core.library.home;
    const free = await fs.statfs(home).then(
      (s) => s.bavail * s.bsize,
      () => null,
    );
    return {
      hostname: os.hostname(),
      vmdeskVersion: VMDESK_VERSION,
      api: API_VERSION,
      qemuVersion: host.qemu?.version ?? null,
      accel: host.preferredAccel,
      ...(host.accelerators.kvm.reason ? { kvmReason: host.accelerators.kvm.reason } : {}),
      cpus: host.cpus,
      memoryMiB: host.memoryMiB,
      freeMemoryMiB: host.freeMemoryMiB,
      library: home,
      libraryFreeBytes: free,
      machines: machines.length,
      machinesRunning: machines.filter((m) => this.core.runtime.isActive(m.status.state)).length,
    };
  }

  async streamSocket(kind: ConsoleKind, uuid: string): Promise<ApiResults['streamSocket']> {
    return { path: await streamTarget(this.core, kind, uuid) };
  }

  /** A running machine of this computer to a remote host (the source drives; the destination answers the *Incoming calls). */
  async migrateMachine(ref: string, options: MigrateOptions): Promise<ApiResults['migrateMachine']> {
    return detached(await migrateTask(this.core, ref, options, this.destination(options.to)));
  }

  /** `offline`: the checks of moving a stopped machine (its folder copied) instead of a running one. */
  async migrationPreflight(ref: string, host: string, offline?: boolean): Promise<ApiResults['migrationPreflight']> {
    const record = await this.core.library.find(ref);
    return {
      problems: await preflightProblems(this.core, record.config, record.dir, this.destination(host), offline ?? false),
      needsPassphrase: offline !== true && isEncrypted(record.config),
    };
  }

  private destination(host: string): Destination {
    return {
      name: host,
      api: createApiProxy((method, args) => this.hosts.call(host, method, args)),
      forward: (remotePath) => this.hosts.forwardPath(host, remotePath),
      openLink: () => this.hosts.openBulk(host),
    };
  }

  prepareIncoming(input: IncomingInput): Promise<ApiResults['prepareIncoming']> {
    return this.core.incoming.prepare(input);
  }

  incomingFile(token: string, file: string, offset: number, base64: string): Promise<null> {
    return this.core.incoming.file(token, file, offset, base64);
  }

  startIncoming(token: string): Promise<ApiResults['startIncoming']> {
    return this.core.incoming.start(token);
  }

  finishIncoming(token: string, outcome: 'commit' | 'abort'): Promise<ApiResults['finishIncoming']> {
    return outcome === 'commit' ? this.core.incoming.commit(token) : this.core.incoming.abort(token);
  }

  machineMemory(ref: string): Promise<ApiResults['machineMemory']> {
    return machineMemory(this.core, ref);
  }

  setMemoryTarget(ref: string, targetMiB: number): Promise<ApiResults['setMemoryTarget']> {
    return setMemoryTarget(this.core, ref, targetMiB);
  }

  machineCpu(ref: string): Promise<ApiResults['machineCpu']> {
    return machineCpu(this.core, ref);
  }

  cgroupSupport(): Promise<ApiResults['cgroupSupport']> {
    return cgroupSupport(this.core.env);
  }

  ksm(): Promise<ApiResults['ksm']> {
    return ksmStatus(this.core);
  }

  setKsm(input: KsmInput): Promise<ApiResults['setKsm']> {
    return setKsm(this.core, input);
  }

  memoryPolicy(): Promise<ApiResults['memoryPolicy']> {
    return memoryPolicyStatus(this.core);
  }

  setMemoryPolicy(input: MemoryPolicyInput): Promise<ApiResults['setMemoryPolicy']> {
    return setMemoryPolicy(this.core, input);
  }

  machineStats(ref: string): Promise<ApiResults['machineStats']> {
    return this.core.sampler.machine(ref);
  }

  hostStats(): Promise<ApiResults['hostStats']> {
    return this.core.sampler.host();
  }

  listHosts(): Promise<ApiResults['listHosts']> {
    return this.hosts.list();
  }

  probeHostKey(entry: HostEntry): Promise<ApiResults['probeHostKey']> {
    return this.hosts.probe(entry);
  }

  addHost(input: AddHostInput): Promise<ApiResults['addHost']> {
    return this.hosts.add(input);
  }

  async removeHost(name: string): Promise<null> {
    await this.hosts.remove(name);
    return null;
  }

  connectHost(name: string): Promise<ApiResults['connectHost']> {
    return this.hosts.connect(name);
  }

  disconnectHost(name: string): Promise<ApiResults['disconnectHost']> {
    return this.hosts.disconnect(name);
  }

  /** Ends the connections to remote hosts (their machines run on). */
  close(): void {
    this.core.sampler.stop();
    this.hostManager?.close();
  }

  listMachines(): Promise<ApiResults['listMachines']> {
    return this.core.list();
  }

  getMachine(ref: string): Promise<ApiResults['getMachine']> {
    return this.core.get(ref);
  }

  createMachine(input: CreateMachineInput): Promise<ApiResults['createMachine']> {
    const { task, result } = this.core.create(input);
    // The outcome is reported by the task's events; nothing waits on the promise here.
    result.catch(() => undefined);
    return Promise.resolve(task);
  }

  async modifyMachine(ref: string, patch: ModifyMachineInput): Promise<ApiResults['modifyMachine']> {
    const { config, warnings, appliedLive } = await this.core.modify(ref, patch);
    return { config, warnings, appliedLive };
  }

  repairMachine(ref: string): Promise<ApiResults['repairMachine']> {
    return this.core.repairFromBackup(ref);
  }

  deleteMachine(ref: string, options?: { keepDisks?: boolean }): Promise<ApiResults['deleteMachine']> {
    return this.core.delete(ref, options ?? {});
  }

  startMachine(ref: string, options?: StartMachineInput): Promise<ApiResults['startMachine']> {
    return this.core.start(ref, options ?? {});
  }

  shutdownMachine(ref: string, options?: { force?: boolean; timeoutMs?: number }): Promise<ApiResults['shutdownMachine']> {
    return this.core.shutdown(ref, options ?? {});
  }

  pauseMachine(ref: string): Promise<ApiResults['pauseMachine']> {
    return this.core.pause(ref);
  }

  resumeMachine(ref: string): Promise<ApiResults['resumeMachine']> {
    return this.core.resume(ref);
  }

  resetMachine(ref: string): Promise<ApiResults['resetMachine']> {
    return this.core.reset(ref);
  }

  async sendCtrlAltDel(ref: string): Promise<null> {
    await this.core.sendKeys(ref, ['ctrl', 'alt', 'delete']);
    return null;
  }

  async sendText(ref: string, text: string): Promise<null> {
    await this.core.sendText(ref, text);
    return null;
  }

  async screenshot(ref: string): Promise<ApiResults['screenshot']> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-shot-'));
    try {
      const file = path.join(dir, 'screen.png');
      await this.core.screenshot(ref, file);
      return { png: (await fs.readFile(file)).toString('base64') };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async readLog(ref: string, kind: LogKind, maxBytes = 256 * 1024): Promise<ApiResults['readLog']> {
    const machine = await this.core.get(ref);
    const file = machineLogs(machine.dir)[kind];
    const data = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return Buffer.alloc(0);
      throw new VmdeskError('IO', `Cannot read ${file}: ${err.message}`);
    });
    return { file, text: data.subarray(Math.max(0, data.length - maxBytes)).toString('utf8') };
  }

  async cloneMachine(ref: string, input: CloneMachineInput): Promise<ApiResults['cloneMachine']> {
    const { task, result } = await cloneMachineTask(this.core, ref, input);
    result.catch(() => undefined);
    return task;
  }

  async moveMachine(ref: string, dir: string): Promise<ApiResults['moveMachine']> {
    const { task, result } = await moveMachineTask(this.core, ref, dir);
    result.catch(() => undefined);
    return task;
  }

  addDisk(ref: string, input: AddDiskInput): Promise<ApiResults['addDisk']> {
    return addDiskOp(this.core, ref, input);
  }

  removeDisk(ref: string, diskId: string, options?: { deleteFile?: boolean }): Promise<ApiResults['removeDisk']> {
    return removeDiskOp(this.core, ref, diskId, options ?? {});
  }

  resizeDisk(ref: string, diskId: string, sizeBytes: number, options?: { forceShrink?: boolean }): Promise<ApiResults['resizeDisk']> {
    return resizeDiskOp(this.core, ref, diskId, sizeBytes, options ?? {});
  }

  changeMedium(ref: string, iso: string | null): Promise<ApiResults['changeMedium']> {
    return changeMediumOp(this.core, ref, iso);
  }

  listMedia(): Promise<ApiResults['listMedia']> {
    return listMediaOp(this.core);
  }

  networkHost(): Promise<ApiResults['networkHost']> {
    return networkHostOp(this.core);
  }

  setNic(ref: string, slot: number, input: SetNicInput): Promise<ApiResults['setNic']> {
    return setNicOp(this.core, ref, slot, input);
  }

  addPortForward(ref: string, slot: number, rule: PortForwardInput): Promise<ApiResults['addPortForward']> {
    return addPortForwardOp(this.core, ref, slot, rule);
  }

  removePortForward(ref: string, slot: number, name: string): Promise<ApiResults['removePortForward']> {
    return removePortForwardOp(this.core, ref, slot, name);
  }

  listSnapshots(ref: string): Promise<ApiResults['listSnapshots']> {
    return this.core.snapshots.list(ref);
  }

  async takeSnapshot(ref: string, input: TakeSnapshotInput): Promise<ApiResults['takeSnapshot']> {
    await this.keyForStopped(ref, input.passphrase, 'take a snapshot of it');
    return detached(this.core.snapshots.take(ref, input));
  }

  async restoreSnapshot(ref: string, snapshot: string, options?: SnapshotKeyInput): Promise<ApiResults['restoreSnapshot']> {
    await this.keyForStopped(ref, options?.passphrase, 'restore a snapshot of it');
    return detached(this.core.snapshots.restore(ref, snapshot, options));
  }

  /**
   * A stopped machine's encrypted disks need the passphrase for a snapshot taken, restored or deleted: it is
   * tried before the task starts, so that a front end hears at once that it is missing or wrong (and
   * asks for it) rather than from a failed task. The task tries it again, under the machine's lock.
   */
  private async keyForStopped(ref: string, passphrase: unknown, purpose: string): Promise<void> {
    const machine = await this.core.library.find(ref);
    if (this.core.runtime.isRunning(machine.uuid)) return;
    await requirePassphrase(machine.config, machine.dir, parseInput(passphraseSchema.optional(), passphrase, 'passphrase'), purpose);
  }

  async deleteSnapshot(ref: string, snapshot: string, options?: SnapshotKeyInput): Promise<ApiResults['deleteSnapshot']> {
    await this.keyForStopped(ref, options?.passphrase, 'delete a snapshot of it');
    return detached(this.core.snapshots.delete(ref, snapshot, options));
  }

  saveState(ref: string): Promise<ApiResults['saveState']> {
    return Promise.resolve(detached(this.core.snapshots.saveState(ref)));
  }

  async discardSavedState(ref: string): Promise<null> {
    await this.core.snapshots.discardState(ref);
    return null;
  }

  inspectAppliance(file: string): Promise<ApiResults['inspectAppliance']> {
    return inspectAppliance(file);
  }

  importAppliance(file: string, options?: ImportOptions): Promise<ApiResults['importAppliance']> {
    return Promise.resolve(background(runImport(this.core, file, options ?? {})));
  }

  exportAppliance(ref: string, file: string): Promise<ApiResults['exportAppliance']> {
    return Promise.resolve(background(runExport(this.core, ref, file)));
  }

  p2v(source: string, name: string): Promise<ApiResults['p2v']> {
    return Promise.resolve(background(runP2v(this.core, source, name)));
  }

  v2p(ref: string, target: string, options?: V2pOptions): Promise<ApiResults['v2p']> {
    return Promise.resolve(background(runV2p(this.core, ref, target, options ?? {})));
  }

  /** This core's tasks, and the scheduler's runs (another process: read from its runs log). */
  listTasks(): Promise<ApiResults['listTasks']> {
    return Promise.resolve([...this.core.tasks.list(), ...scheduledRunTasks(this.core.library.home)]);
  }

  getSchedule(ref: string): Promise<ApiResults['getSchedule']> {
    return scheduleStatus(this.core, ref);
  }

  setSchedule(ref: string, input: ScheduleInput | null): Promise<ApiResults['setSchedule']> {
    return setSchedule(this.core, ref, input);
  }

  async backupMachine(ref: string, input: BackupInput): Promise<ApiResults['backupMachine']> {
    return detached(await backupTask(this.core, ref, input));
  }

  listBackups(ref: string, source?: BackupSource): Promise<ApiResults['listBackups']> {
    return listBackups(this.core, ref, source);
  }

  async verifyBackups(ref: string, input?: BackupVerifyInput): Promise<ApiResults['verifyBackups']> {
    return detached(await verifyBackupsTask(this.core, ref, input));
  }

  async restoreBackup(ref: string, input: BackupRestoreInput): Promise<ApiResults['restoreBackup']> {
    return detached(await restoreBackupTask(this.core, ref, input));
  }

  cancelTask(id: string): Promise<ApiResults['cancelTask']> {
    if (id.startsWith(RUN_TASK_PREFIX))
      throw new VmdeskError('INVALID_STATE', 'A scheduled run belongs to the snapshot scheduler: turn the schedule off to stop its runs');
    this.core.tasks.cancel(id);
    const task = this.core.tasks.list().find((t) => t.id === id);
    if (!task) throw new VmdeskError('NOT_FOUND', `No task ${id}`);
    return Promise.resolve(task);
  }
}
