/**
 * The portability operations as the core runs them: each a task (progress, cancel); those that read
 * a machine take its lock for the whole copy and need it stopped, so the copy is consistent and
 * nobody starts it meanwhile.
 */
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { Core } from '../core.js';
import { withLock } from '../fs/lock-file.js';
import { machineLockFile } from '../library/library.js';
import type { CreateResult } from '../machines/create-machine.js';
import type { TaskInfo } from '../tasks/task-manager.js';
import { exportAppliance, type ExportResult } from './export-appliance.js';
import { importAppliance, inspectAppliance, type ImportOptions } from './import-appliance.js';

export { inspectAppliance };
import { physicalToVirtual, virtualToPhysical, type V2pOptions, type V2pResult } from './physical.js';
import { refuseEncrypted } from '../storage/encryption.js';

type Started<T> = { task: TaskInfo; result: Promise<T> };

const created = (c: CreateResult): unknown => ({ uuid: c.config.uuid, name: c.config.name, warnings: c.warnings });

export function runImport(core: Core, file: string, options: ImportOptions): Started<CreateResult> {
  return core.tasks.run(
    `Import ${file.split('/').pop() ?? file}`,
    async (ctx) => {
      const result = await importAppliance(core.library, await core.host(), file, options, ctx);
      core.emit('machines');
      return result;
    },
    created,
  );
}

export function runP2v(core: Core, source: string, name: string): Started<CreateResult> {
  return core.tasks.run(
    `P2V ${source} to ${name}`,
    async (ctx) => {
      const result = await physicalToVirtual(core.library, await core.host(), source, name, ctx);
      core.emit('machines');
      return result;
    },
    created,
  );
}

/** Run `fn` on a stopped machine, holding its lock throughout. */
async function onStoppedMachine<T>(
  core: Core,
  ref: string,
  purpose: string,
  fn: (config: MachineConfig, dir: string) => Promise<T>,
): Promise<T> {
  const record = await core.library.find(ref);
  return withLock(machineLockFile(record.dir), `${purpose} ${record.config.name}`, async () => {
    const fresh = await core.library.find(record.uuid);
    const state = core.runtime.status(fresh.uuid).state;
    if (core.runtime.isActive(state))
      throw new VmdeskError('INVALID_STATE', `${fresh.config.name} is ${state}: stop it before ${purpose} it`);
    return fn(fresh.config, fresh.dir);
  });
}

export function runExport(core: Core, ref: string, file: string): Started<ExportResult> {
  return core.tasks.run(
    `Export ${ref}`,
    (ctx) =>
      onStoppedMachine(core, ref, 'exporting', (config, dir) => {
        refuseEncrypted(config, 'export', 'an OVA/OVF holds VMDK disks, which have no encryption');
        return exportAppliance(config, dir, file, ctx);
      }),
    (r) => ({ file: r.file, bytes: r.bytes, warnings: r.warnings }),
  );
}

export function runV2p(core: Core, ref: string, target: string, options: V2pOptions): Started<V2pResult> {
  return core.tasks.run(
    `V2P ${ref} to ${target}`,
    (ctx) =>
      onStoppedMachine(core, ref, 'copying', (config, dir) => {
        refuseEncrypted(config, 'copy to a device', 'the device would get its disks in plain text');
        return virtualToPhysical(config, dir, target, options, ctx);
      }),
    (r) => ({ ...r }),
  );
}
