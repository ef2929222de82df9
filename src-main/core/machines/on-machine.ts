/**
 * A change to one machine under its lock, with QMP on the running guest when there is one: what the
 * storage and network operations share.
 */
import type { MachineConfig } from '../../api/machine-config.js';
import type { AgentClient } from '../agent/agent-client.js';
import type { Core } from '../core.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';

export type Qmp = (command: string, args?: Record<string, unknown>) => Promise<unknown>;

export interface LockedMachine {
  uuid: string;
  dir: string;
  config: MachineConfig;
}

/** Runs `fn` under the machine's lock on its fresh record; `qmp` is null unless it runs. */
export async function onMachine<T>(
  core: Core,
  ref: string,
  purpose: string,
  fn: (machine: LockedMachine, running: boolean, qmp: Qmp | null) => Promise<T>,
  qmpTimeoutMs = 60_000,
): Promise<T> {
  const record = await core.library.find(ref);
  const active = core.runtime.isRunning(record.uuid);
  // Connected before the lock: re-adopting an orphaned QEMU takes the same lock.
  const client: AgentClient | null = active ? await core.runtime.connect(record.config, record.dir) : null;
  try {
    const result = await withLock(machineLockFile(record.dir), `${purpose} of ${record.config.name}`, async () => {
      const fresh = await core.library.find(record.uuid);
      const running = core.runtime.isRunning(fresh.uuid);
      const qmp: Qmp | null = running && client ? (command, args) => client.qmp(command, args, qmpTimeoutMs) : null;
      return fn(fresh, running, qmp);
    });
    core.emit('machines');
    return result;
  } finally {
    client?.close();
  }
}
