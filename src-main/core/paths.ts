/**
 * Every file of the library, of a machine folder and of a machine's runtime dir is named here once
 * (the way Lima names its instance files). The README's "On disk" section documents this layout.
 */
import os from 'node:os';
import path from 'node:path';

export const LIBRARY_FILE = 'library.json';
export const MACHINES_DIR = 'machines';
export const CACHE_DIR = 'cache';

export const MACHINE_CONFIG = 'machine.json';
export const MACHINE_CONFIG_BACKUP = 'machine.json.bak';
export const MACHINE_LOCK = 'machine.lock';
export const DISKS_DIR = 'disks';
export const NVRAM_FILE = 'nvram.fd';
export const LOGS_DIR = 'logs';
export const QEMU_LOG = 'qemu.log';
export const SERIAL_LOG = 'serial.log';
export const AGENT_LOG = 'agent.log';
/** Snapshot tree, frozen images and RAM states (see core/snapshots). */
export const SNAPSHOTS_FILE = 'snapshots.json';
export const SNAPSHOTS_FILE_BACKUP = 'snapshots.json.bak';
export const SNAPSHOTS_DIR = 'snapshots';
/** Present while the machine is suspended to disk (save state) or restored to a live snapshot. */
export const SAVED_STATE_FILE = 'saved-state.json';

/** A machine folder being deleted is renamed to this prefix + its uuid, beside where it was, then removed. */
export const DELETING_PREFIX = '.deleting-';

/** Internal-network switches live in this folder of the runtime root: <hash>.sock, .pid, .log. */
export const NET_DIR = 'net';

/** The host memory policy process (automatic overcommit) keeps its pid, log and state in this folder of the runtime root. */
export const POLICY_DIR = 'policy';
/** The host memory policy's settings (on/off, target), in the library home. */
export const MEMORY_POLICY_FILE = 'memory-policy.json';
/** A machine's snapshot schedule and retention (machine folder; see core/schedule). */
export const SCHEDULE_FILE = 'schedule.json';
/** What the scheduler ran last for a machine, and the run it has begun (machine folder). */
export const SCHEDULE_STATE_FILE = 'schedule-state.json';
/** A machine's last backup folder (machine folder; see core/backup). */
export const BACKUP_TARGET_FILE = 'backup.json';
/** The scheduler process of a library keeps its pid and log in <runtime root>/scheduler/<hash of the library home>/. */
export const SCHEDULER_DIR = 'scheduler';
/** Every scheduled run, one JSON line each, read into the task history (library home). */
export const SCHEDULE_RUNS_FILE = 'schedule-runs.jsonl';
/** The host's KSM settings from before VMDesk turned KSM on, to restore (in the runtime root). */
export const KSM_SAVED_FILE = 'ksm-saved.json';

/** Files of the runtime dir; kept short because unix socket paths are limited to 107 bytes. */
export const RUNTIME = {
  qmp: 'qmp.sock',
  serial: 'serial.sock',
  vnc: 'vnc.sock',
  agent: 'agent.sock',
  console: 'console.sock',
  qemuPid: 'qemu.pid',
  agentPid: 'agent.pid',
  exit: 'exit.json',
  state: 'state.json',
  launch: 'launch.json',
  /** The balloon target last set (by the start, the user or the host memory policy): see core/resources. */
  balloon: 'balloon.json',
  /** The console a machine resumed from a saved state starts with (see core/snapshots/console.ts). */
  scrollback: 'scrollback.bin',
  /** The FIFO through which the agent hands an encrypted machine's passphrase to QEMU (gone once read). */
  secret: 'secret.fifo',
} as const;

export const SOCKET_PATH_MAX = 107;

export function libraryHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VMDESK_HOME) return path.resolve(env.VMDESK_HOME);
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'vmdesk');
}

/** Where downloaded or built artefacts (the demo guest) are kept, shared by every library. */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VMDESK_CACHE) return path.resolve(env.VMDESK_CACHE);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'vmdesk');
}

/** Root of all runtime dirs: $XDG_RUNTIME_DIR/vmdesk, else $TMPDIR/vmdesk-<uid>. */
export function runtimeRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VMDESK_RUNTIME_DIR) return path.resolve(env.VMDESK_RUNTIME_DIR);
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'vmdesk');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(env.TMPDIR || os.tmpdir(), `vmdesk-${uid}`);
}

/** A machine's runtime dir is keyed by its uuid, so libraries side by side never collide. */
export function runtimeDir(uuid: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(runtimeRoot(env), uuid);
}

export function runtimeFile(uuid: string, file: keyof typeof RUNTIME, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(runtimeDir(uuid, env), RUNTIME[file]);
}

export function machineLogs(machineDir: string): { qemu: string; serial: string; agent: string } {
  const logs = path.join(machineDir, LOGS_DIR);
  return { qemu: path.join(logs, QEMU_LOG), serial: path.join(logs, SERIAL_LOG), agent: path.join(logs, AGENT_LOG) };
}
