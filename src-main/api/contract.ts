/**
 * The one API of VMDesk: every operation a front end may call, with the schema of its arguments,
 * and every event it may receive. The Electron preload, the WebSocket server and their clients are
 * generic proxies over this table (as VS Code's ProxyChannel): no channel name is written twice.
 */
import { z } from 'zod';
import { machineNameSchema, type MachineConfig } from './machine-config.js';
import {
  createMachineInputSchema,
  deleteMachineInputSchema,
  modifyMachineInputSchema,
  sendTextInputSchema,
  startMachineInputSchema,
} from './operations.js';
import { snapshotKeyInputSchema, snapshotRefSchema, takeSnapshotInputSchema, type SnapshotTree } from './snapshots.js';
import type { AgentStatus, HostCapabilities, MachineDetails, MachineSummary, RuntimeStatus, TaskInfo } from './types.js';
import { absolutePathSchema, importOptionsSchema, v2pOptionsSchema, type ApplianceSummary } from './portability.js';
import {
  addDiskInputSchema,
  cloneMachineInputSchema,
  diskIdSchema,
  moveTargetSchema,
  removeDiskOptionsSchema,
  resizeBytesSchema,
  resizeDiskOptionsSchema,
  type DiskOutcome,
  type MediumInfo,
} from './storage.js';
import { hostPathSchema } from './machine-config.js';
import {
  nicSlotSchema,
  portForwardInputSchema,
  portForwardNameSchema,
  setNicInputSchema,
  type NetworkHostInfo,
  type NetworkOutcome,
} from './network.js';
import {
  incomingFileArgs,
  incomingInputSchema,
  migrateOptionsSchema,
  type IncomingCommitted,
  type IncomingPrepared,
  type IncomingReady,
  type MigrationPreflight,
} from './migration.js';
import {
  ksmInputSchema,
  memoryPolicyInputSchema,
  memoryTargetSchema,
  type CgroupSupport,
  type HostStats,
  type KsmStatus,
  type MachineCpu,
  type MachineMemory,
  type MachineStats,
  type MemoryPolicyStatus,
} from './resources.js';
import { addHostInputSchema, hostEntrySchema, hostNameSchema, type HostDetails, type HostKeyProbe, type HostSummary } from './hosts.js';
import { backupInputSchema, backupRestoreInputSchema, backupSourceSchema, backupVerifyInputSchema, type BackupList } from './backup.js';
import { scheduleInputSchema, type ScheduleStatus } from './schedule.js';
import { LANGUAGES } from './languages.js';

/** A machine is named by its uuid or its name. */
const machineRef = z.string().min(1, 'A machine name or uuid is needed').max(256);
const taskId = z.string().min(1).max(64);
export const LOG_KINDS = ['qemu', 'serial', 'agent'] as const;
export type LogKind = (typeof LOG_KINDS)[number];

const shutdownOptions = z
  .object({
    force: z.boolean().optional(),
    timeoutMs: z.int().positive().max(3_600_000).optional(),
  })
  .strict();

/** Argument tuples, validated at every boundary before the core sees them. */
export const API_ARGUMENTS = {
  host: z.tuple([]),
  listMachines: z.tuple([]),
  getMachine: z.tuple([machineRef]),
  createMachine: z.tuple([createMachineInputSchema]),
  modifyMachine: z.tuple([machineRef, modifyMachineInputSchema]),
  deleteMachine: z.tuple([machineRef, deleteMachineInputSchema.strict().optional()]),
  repairMachine: z.tuple([machineRef]),
  /** The passphrase of a machine with encrypted disks goes in the options; it is kept in no file. */
  startMachine: z.tuple([machineRef, startMachineInputSchema.optional()]),
  shutdownMachine: z.tuple([machineRef, shutdownOptions.optional()]),
  pauseMachine: z.tuple([machineRef]),
  resumeMachine: z.tuple([machineRef]),
  resetMachine: z.tuple([machineRef]),
  sendCtrlAltDel: z.tuple([machineRef]),
  sendText: z.tuple([machineRef, sendTextInputSchema]),
  screenshot: z.tuple([machineRef]),
  readLog: z.tuple([
    machineRef,
    z.enum(LOG_KINDS),
    z
      .int()
      .positive()
      .max(16 * 1024 * 1024)
      .optional(),
  ]),
  cloneMachine: z.tuple([machineRef, cloneMachineInputSchema]),
  moveMachine: z.tuple([machineRef, moveTargetSchema]),
  addDisk: z.tuple([machineRef, addDiskInputSchema]),
  removeDisk: z.tuple([machineRef, diskIdSchema, removeDiskOptionsSchema.optional()]),
  resizeDisk: z.tuple([machineRef, diskIdSchema, resizeBytesSchema, resizeDiskOptionsSchema.optional()]),
  changeMedium: z.tuple([machineRef, hostPathSchema.nullable()]),
  listMedia: z.tuple([]),
  listSnapshots: z.tuple([machineRef]),
  takeSnapshot: z.tuple([machineRef, takeSnapshotInputSchema]),
  restoreSnapshot: z.tuple([machineRef, snapshotRefSchema, snapshotKeyInputSchema.optional()]),
  deleteSnapshot: z.tuple([machineRef, snapshotRefSchema, snapshotKeyInputSchema.optional()]),
  saveState: z.tuple([machineRef]),
  discardSavedState: z.tuple([machineRef]),
  inspectAppliance: z.tuple([absolutePathSchema]),
  importAppliance: z.tuple([absolutePathSchema, importOptionsSchema.optional()]),
  exportAppliance: z.tuple([machineRef, absolutePathSchema]),
  p2v: z.tuple([absolutePathSchema, machineNameSchema]),
  v2p: z.tuple([machineRef, absolutePathSchema, v2pOptionsSchema.optional()]),
  networkHost: z.tuple([]),
  setNic: z.tuple([machineRef, nicSlotSchema, setNicInputSchema]),
  addPortForward: z.tuple([machineRef, nicSlotSchema, portForwardInputSchema]),
  removePortForward: z.tuple([machineRef, nicSlotSchema, portForwardNameSchema]),
  listTasks: z.tuple([]),
  cancelTask: z.tuple([taskId]),
  streamEndpoint: z.tuple([]),
  /** The language the renderer shows (its Preferences choice resolved): the desktop app's native menu follows it. */
  setMenuLanguage: z.tuple([z.enum(LANGUAGES)]),
  /** The unix socket of a running machine's console or display, for a VMDesk connected over SSH to forward. */
  streamSocket: z.tuple([z.enum(['serial', 'vnc']), z.uuid()]),
  hostDetails: z.tuple([]),
  migrateMachine: z.tuple([machineRef, migrateOptionsSchema]),
  migrationPreflight: z.tuple([machineRef, hostNameSchema, z.boolean().optional()]),
  prepareIncoming: z.tuple([incomingInputSchema]),
  incomingFile: incomingFileArgs,
  startIncoming: z.tuple([z.uuid()]),
  finishIncoming: z.tuple([z.uuid(), z.enum(['commit', 'abort'])]),
  machineMemory: z.tuple([machineRef]),
  setMemoryTarget: z.tuple([machineRef, memoryTargetSchema]),
  machineCpu: z.tuple([machineRef]),
  cgroupSupport: z.tuple([]),
  ksm: z.tuple([]),
  setKsm: z.tuple([ksmInputSchema]),
  memoryPolicy: z.tuple([]),
  setMemoryPolicy: z.tuple([memoryPolicyInputSchema]),
  backupMachine: z.tuple([machineRef, backupInputSchema]),
  listBackups: z.tuple([machineRef, backupSourceSchema.optional()]),
  verifyBackups: z.tuple([machineRef, backupVerifyInputSchema.optional()]),
  restoreBackup: z.tuple([machineRef, backupRestoreInputSchema]),
  machineStats: z.tuple([machineRef]),
  getSchedule: z.tuple([machineRef]),
  /** null turns the schedule off (its scheduled snapshots stay). */
  setSchedule: z.tuple([machineRef, scheduleInputSchema.nullable()]),
  hostStats: z.tuple([]),
  listHosts: z.tuple([]),
  probeHostKey: z.tuple([hostEntrySchema]),
  addHost: z.tuple([addHostInputSchema]),
  removeHost: z.tuple([hostNameSchema]),
  connectHost: z.tuple([hostNameSchema]),
  disconnectHost: z.tuple([hostNameSchema]),
} satisfies Record<string, z.ZodTuple>;

export type ApiMethod = keyof typeof API_ARGUMENTS;
export type ApiArguments<M extends ApiMethod> = z.input<(typeof API_ARGUMENTS)[M]>;

/** Where the console streams (serial and VNC WebSockets) are served, and the token they demand. */
export interface StreamEndpoint {
  /** ws:// or wss:// base, e.g. ws://127.0.0.1:8080 */
  url: string;
  token: string;
}

export interface ModifyOutcome {
  config: MachineConfig;
  warnings: string[];
  /** What took effect at once on the running machine (CPU cap, shares, pinning, balloon floor). */
  appliedLive: string[];
}

/** What each method resolves to. */
export interface ApiResults {
  host: HostCapabilities;
  listMachines: MachineSummary[];
  getMachine: MachineDetails;
  /** Creating copies or converts disks: a task; its result is the new machine's uuid. */
  createMachine: TaskInfo;
  modifyMachine: ModifyOutcome;
  deleteMachine: { keptDisks: string | null };
  /** A broken machine's machine.json.bak put back; the broken file is kept beside it (brokenFile). */
  repairMachine: { config: MachineConfig; brokenFile: string | null };
  startMachine: AgentStatus;
  shutdownMachine: AgentStatus;
  pauseMachine: AgentStatus;
  resumeMachine: AgentStatus;
  resetMachine: AgentStatus;
  sendCtrlAltDel: null;
  sendText: null;
  /** PNG, base64. */
  screenshot: { png: string };
  readLog: { file: string; text: string };
  /** A task; its result is a CloneOutcome (uuid, name, dir, how each disk was made). */
  cloneMachine: TaskInfo;
  /** A task; its result is a MoveOutcome (from, dir, link or copy). */
  moveMachine: TaskInfo;
  addDisk: DiskOutcome & { id: string; file: string };
  removeDisk: DiskOutcome & { deleted: string | null };
  resizeDisk: DiskOutcome & { sizeBytes: number; previousBytes: number };
  /** An ISO path to insert, or null to eject; live when the machine runs. */
  changeMedium: DiskOutcome;
  listMedia: MediumInfo[];
  /** The snapshot tree, the current state marked. */
  listSnapshots: SnapshotTree;
  /** Tasks; their result: { id, name, kind: 'live' | 'disk', warnings } for take, RestoreOutcome for restore, { id, name } for delete, { file } for save. */
  takeSnapshot: TaskInfo;
  restoreSnapshot: TaskInfo;
  deleteSnapshot: TaskInfo;
  saveState: TaskInfo;
  discardSavedState: null;
  /** What importing a file would make (name, CPUs, memory, disks...), read from its descriptor: fast, copies nothing. */
  inspectAppliance: ApplianceSummary;
  /** OVA, OVF or disk image → new machine: a task; its result is an ImportOutcome (uuid, name, warnings). */
  importAppliance: TaskInfo;
  /** A stopped machine → new .ova file: a task; its result is an ExportOutcome (file, bytes, warnings). */
  exportAppliance: TaskInfo;
  /** Block device or raw image → new machine (source read-only): a task; its result is an ImportOutcome. */
  p2v: TaskInfo;
  /** A stopped machine's disk → new raw file or block device: a task; its result is a V2pOutcome. */
  v2p: TaskInfo;
  /** Host bridges, what bridged networking needs, and the internal networks in use. */
  networkHost: NetworkHostInfo;
  /** Change (or add, or remove) one adapter; the cable changes live, the rest at the next start. */
  setNic: NetworkOutcome;
  /** A NAT rule, checked (port free on the host, no clash) and applied live to a running machine. */
  addPortForward: NetworkOutcome;
  removePortForward: NetworkOutcome;
  listTasks: TaskInfo[];
  cancelTask: TaskInfo;
  streamEndpoint: StreamEndpoint;
  /** Whether a native menu was there to change (the desktop app); the browser face has only its own. */
  setMenuLanguage: { nativeMenu: boolean };
  streamSocket: { path: string };
  /** This host's (or, routed, a remote host's) VMDesk, QEMU, resources and machines. */
  hostDetails: HostDetails;
  /** Live migration of a running machine to a remote host: a task; its result is a MigrationOutcome (rounds, downtime...). */
  migrateMachine: TaskInfo;
  /** Every reason the machine cannot migrate to that host now (empty: it can). */
  migrationPreflight: MigrationPreflight;
  /** The destination side of a migration, driven by the source's VMDesk: see core/migration/incoming.ts. */
  prepareIncoming: IncomingReady;
  incomingFile: null;
  startIncoming: IncomingPrepared;
  /** Committed: how long after the guest was continued there the answer left; aborted: null. */
  finishIncoming: IncomingCommitted | null;
  /** Balloon target and size, the guest's own memory figures, QEMU's resident memory, page sharing. */
  machineMemory: MachineMemory;
  /** The guest's memory set live (the balloon inflates or deflates); never below the machine's minimum. */
  setMemoryTarget: MachineMemory;
  /** Cap, shares, pinning and where each vCPU thread may run now. */
  machineCpu: MachineCpu;
  /** Whether caps and shares can be applied on this host (cgroup v1 or v2), and why not. */
  cgroupSupport: CgroupSupport;
  /** Page sharing (KSM): on or off, scan rate, memory saved, per machine. */
  ksm: KsmStatus;
  /** Turn KSM on (the host's settings kept) or off (restored); needs root, else the error names the command. */
  setKsm: KsmStatus;
  /** The host memory policy (automatic overcommit): target, per machine target/actual and why, its decisions. */
  memoryPolicy: MemoryPolicyStatus;
  setMemoryPolicy: MemoryPolicyStatus;
  /** A backup point (full or incremental) into the machine's chain: a task; its result is a BackupOutcome. */
  backupMachine: TaskInfo;
  /** The machine's backup points (null: none yet). */
  listBackups: BackupList | null;
  /** Every image of the chain checked: a task; its result is a BackupVerifyOutcome (problems listed). */
  verifyBackups: TaskInfo;
  /** A point back into the library (new machine, or over the stopped machine): a task; its result is a BackupRestoreOutcome. */
  restoreBackup: TaskInfo;
  /** The last minutes of a running machine's figures (CPU, memory, disk, network); sampling runs while asked. */
  /** A machine's snapshot schedule and retention, its next run and last outcome, and the scheduler's pid. */
  getSchedule: ScheduleStatus;
  setSchedule: ScheduleStatus;
  machineStats: MachineStats;
  /** The last minutes of the host's figures (CPU, memory, KSM saved, overcommit). */
  hostStats: HostStats;
  /** This computer and every remote host, with its connection state. */
  listHosts: HostSummary[];
  /** The host key a destination presents, and whether known_hosts already has it; writes nothing. */
  probeHostKey: HostKeyProbe;
  /** Connects (the host key known or confirmed by acceptHostKey), checks the remote VMDesk, then saves the entry. */
  addHost: HostSummary;
  removeHost: null;
  connectHost: HostSummary;
  disconnectHost: HostSummary;
}

/** Operations about the list of hosts itself: always answered by this computer, never routed. */
export const HOST_MANAGEMENT_METHODS: ReadonlySet<ApiMethod> = new Set([
  'listHosts',
  'probeHostKey',
  'addHost',
  'removeHost',
  'connectHost',
  'disconnectHost',
  'streamEndpoint',
  'setMenuLanguage',
]);

export type VmdeskApi = {
  [M in ApiMethod]: (...args: ApiArguments<M>) => Promise<ApiResults[M]>;
};

/** Events pushed to every front end. */
export interface ApiEvents {
  /** The library changed (a machine created, renamed, modified, deleted — by this or another core). */
  machines: null;
  'machine-state': { uuid: string; status: RuntimeStatus };
  task: TaskInfo;
  /** A host was added, removed, connected or lost. */
  hosts: null;
}
export type ApiEventName = keyof ApiEvents;
export const API_EVENTS: readonly ApiEventName[] = ['machines', 'machine-state', 'task', 'hosts'];

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(API_ARGUMENTS, name);
}

/**
 * The wire format of the WebSocket API (JSON-RPC-like) — also what the preload forwards and what
 * `vmdesk stdio` speaks over SSH, one message per line. `host` names the remote host a request is
 * for, or an event came from; absent: this computer.
 */
export type ApiRequest = { id: number; method: string; args: unknown[]; host?: string };
export type ApiResponse =
  { id: number; result: unknown } | { id: number | null; error: { code: string; message: string; details?: unknown } };
export type ApiEventMessage = { event: ApiEventName; data: unknown; host?: string };
