/** `vmdesk import`, `vmdesk export`, `vmdesk p2v` and `vmdesk v2p`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { Core } from '../../core/core.js';
import { inspectAppliance, runExport, runImport, runP2v, runV2p } from '../../core/portability/operations.js';
import { VmdeskError } from '../../api/errors.js';
import { machineNameSchema } from '../../api/machine-config.js';
import { trustBackingOption } from '../trust-backing.js';
import { formatNumber, t } from '../../i18n/i18n.js';
import { showTaskProgress, warn } from '../output.js';

function machineName(name: string): string {
  const r = machineNameSchema.safeParse(name);
  if (!r.success)
    throw new VmdeskError('INVALID_INPUT', t('commands.portability.invalidName', { name, reason: r.error.issues[0]?.message ?? '' }));
  return name;
}

function gib(bytes: number): string {
  return `${formatNumber(bytes / 1024 ** 3, 2)} GiB`;
}

export function registerPortabilityCommands(program: Command, core: Core): void {
  program
    .command('import')
    .argument('<file>', t('commands.portability.importFile'))
    .description(t('commands.portability.importDescription'))
    .option('--name <name>', t('commands.portability.name'))
    .option('--inspect', t('commands.portability.inspect'))
    .addOption(trustBackingOption())
    .option('--json', t('cli.jsonResult'))
    .action(async (file: string, o: { name?: string; inspect?: boolean; trustBacking?: string[]; json?: boolean }) => {
      if (o.inspect) {
        const s = await inspectAppliance(path.resolve(file));
        if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else {
          const disks = s.disks.map((d) => `${d.format} ${gib(d.capacityBytes)}`).join(', ') || t('commands.portability.noDisks');
          const inspected = t('commands.portability.inspected', {
            kind: s.kind.toUpperCase(),
            name: s.name,
            os: s.osType,
            cpus: s.cpus,
            memory: s.memoryMiB,
            firmware: s.firmware.toUpperCase(),
            disks,
            nics: s.nics,
          });
          process.stdout.write(`${inspected}${s.kernelBoot ? t('commands.portability.kernelBoot') : ''}\n`);
          warn(s.warnings);
        }
        return;
      }
      const { task, result } = runImport(core, path.resolve(file), {
        ...(o.name !== undefined && { name: machineName(o.name) }),
        ...(o.trustBacking !== undefined && { trustBacking: o.trustBacking }),
      });
      showTaskProgress(core, task.id);
      const r = await result;
      warn(r.warnings);
      if (o.json)
        process.stdout.write(
          JSON.stringify({ uuid: r.config.uuid, name: r.config.name, dir: r.dir, warnings: r.warnings }, null, 2) + '\n',
        );
      else process.stdout.write(`${t('commands.portability.imported', { name: r.config.name, uuid: r.config.uuid, dir: r.dir })}\n`);
    });

  program
    .command('export')
    .argument('<name>', t('commands.portability.stopped'))
    .argument('<file>', t('commands.portability.exportFile'))
    .description(t('commands.portability.exportDescription'))
    .action(async (name: string, file: string) => {
      const { task, result } = runExport(core, name, path.resolve(file));
      showTaskProgress(core, task.id);
      const r = await result;
      warn(r.warnings);
      process.stdout.write(`${t('commands.portability.exported', { name, file: r.file, size: gib(r.bytes) })}\n`);
    });

  program
    .command('p2v')
    .argument('<source>', t('commands.portability.p2vSource'))
    .argument('<name>', t('commands.portability.p2vName'))
    .description(t('commands.portability.p2vDescription'))
    .action(async (source: string, name: string) => {
      const { task, result } = runP2v(core, path.resolve(source), machineName(name));
      showTaskProgress(core, task.id);
      const r = await result;
      warn(r.warnings);
      const created = { name: r.config.name, uuid: r.config.uuid, source: path.resolve(source), dir: r.dir };
      process.stdout.write(`${t('commands.portability.p2vCreated', created)}\n`);
    });

  program
    .command('v2p')
    .argument('<name>', t('commands.portability.stopped'))
    .argument('<target>', t('commands.portability.v2pTarget'))
    .description(t('commands.portability.v2pDescription'))
    .option('--disk <id>', t('commands.portability.disk'))
    .option('--yes-overwrite-device', t('commands.portability.overwrite'))
    .action(async (name: string, target: string, o: { disk?: string; yesOverwriteDevice?: boolean }) => {
      const { task, result } = runV2p(core, name, path.resolve(target), {
        ...(o.disk !== undefined && { disk: o.disk }),
        confirmDevice: o.yesOverwriteDevice === true,
      });
      showTaskProgress(core, task.id);
      const r = await result;
      const wrote = t('commands.portability.wrote', { size: gib(r.bytes), name, target: r.target });
      process.stdout.write(`${wrote}${r.device ? t('commands.portability.blockDevice') : ''}\n`);
    });
}
