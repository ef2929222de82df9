/**
 * Where a library's scheduler process is found: <runtime root>/scheduler/<hash of the library home>/
 * with its pid file (a lock: one scheduler per library, taken over when its owner died) and its log.
 * The runtime root is per user and per boot, like the agents' and the switches'; what must outlive a
 * reboot (the last slot run, the runs) is in the machine folders and the library home.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { lockHolderPid } from '../../fs/lock-file.js';
import { SCHEDULER_DIR } from '../../paths.js';

/** Exit status of a scheduler that found another one running for its library. */
export const ALREADY_RUNNING_EXIT = 75;

export interface SchedulerFiles {
  dir: string;
  pid: string;
  log: string;
}

export function schedulerFiles(runtimeRoot: string, home: string): SchedulerFiles {
  const hash = createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16);
  const dir = path.join(runtimeRoot, SCHEDULER_DIR, hash);
  return { dir, pid: path.join(dir, 'scheduler.pid'), log: path.join(dir, 'scheduler.log') };
}

/** The running scheduler's pid, from its lock file, or null. */
export function runningSchedulerPid(files: SchedulerFiles): number | null {
  return lockHolderPid(files.pid);
}
