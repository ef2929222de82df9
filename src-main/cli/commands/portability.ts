/** `vmdesk import`, `vmdesk export`, `vmdesk p2v` and `vmdesk v2p`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { Core } from '../../core/core.js';
import { inspectAppliance, runExport, runImport, runP2v, runV2p } from '../../core/portability/operations.js';
import { VmdeskError } from '../../api/errors.js';
import { machineNameSchema } from '../../api/machine-config.js';
import { trustBackingOption } from '../trust-backing.js';

/** Progress of a long task on stderr, on one rewritten line when stderr is a terminal. */
function showProgress(core: Core, taskId: string): void {
  if (!process.stderr.isTTY) return;
  core.on('task', (t) => {
    if (t.id !== taskId) return;
    const pct = t.progress === null ? '' : ` ${Math.round(t.progress * 100)}%`;
    process.stderr.write(`\r\x1b[K${t.title}${pct} ${t.message}`.slice(0, process.stderr.columns || 80));
    if (t.state !== 'running') process.stderr.write('\r\x1b[K');
  });
}

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

function machineName(name: string): string {
  const r = machineNameSchema.safeParse(name);
  if (!r.success) throw new VmdeskError('INVALID_INPUT', `Invalid machine name "${name}": ${r.error.issues[0]?.message ?? ''}`);
  return name;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function registerPortabilityCommands(program: Command, core: Core): void {
  program
    .command('import')
    .argument('<file>', 'an .ova or .ovf appliance, or a disk image (vmdk, vdi, vhdx, vpc, raw, qcow2)')
    .description('import an appliance (VirtualBox, VMware) or a disk image as a new machine')
    .option('--name <name>', "the new machine's name (default: the appliance's)")
    .option('--inspect', 'only show what the import would make (reads the descriptor, copies nothing)')
    .addOption(trustBackingOption())
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { name?: string; inspect?: boolean; trustBacking?: string[]; json?: boolean }) => {
      if (o.inspect) {
        const s = await inspectAppliance(path.resolve(file));
        if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else {
          const disks = s.disks.map((d) => `${d.format} ${gib(d.capacityBytes)}`).join(', ') || 'none';
          process.stdout.write(
            `${s.kind.toUpperCase()} ${s.name}: ${s.osType}, ${s.cpus} CPU, ${s.memoryMiB} MiB, ${s.firmware.toUpperCase()}, disks: ${disks}, ${s.nics} NIC${s.kernelBoot ? ', direct kernel boot' : ''}\n`,
          );
          warn(s.warnings);
        }
        return;
      }
      const { task, result } = runImport(core, path.resolve(file), {
        ...(o.name !== undefined && { name: machineName(o.name) }),
        ...(o.trustBacking !== undefined && { trustBacking: o.trustBacking }),
      });
      showProgress(core, task.id);
      const r = await result;
      warn(r.warnings);
      if (o.json)
        process.stdout.write(
          JSON.stringify({ uuid: r.config.uuid, name: r.config.name, dir: r.dir, warnings: r.warnings }, null, 2) + '\n',
        );
      else process.stdout.write(`Imported ${r.config.name} (${r.config.uuid}) in ${r.dir}\n`);
    });

  program
    .command('export')
    .argument('<name>', 'a stopped machine')
    .argument('<file>', 'the .ova file to write (must not exist)')
    .description('export a stopped machine as an OVA appliance (OVF 1.0, streamOptimized vmdk, SHA256 manifest) that VirtualBox imports')
    .action(async (name: string, file: string) => {
      const { task, result } = runExport(core, name, path.resolve(file));
      showProgress(core, task.id);
      const r = await result;
      warn(r.warnings);
      process.stdout.write(`Exported ${name} to ${r.file} (${gib(r.bytes)})\n`);
    });

  program
    .command('p2v')
    .argument('<source>', 'a physical disk (block device, e.g. /dev/sdb) or a raw image of one; only read')
    .argument('<name>', 'the new machine')
    .description('make a machine from a physical disk or a raw disk image (the source is opened read-only)')
    .action(async (source: string, name: string) => {
      const { task, result } = runP2v(core, path.resolve(source), machineName(name));
      showProgress(core, task.id);
      const r = await result;
      warn(r.warnings);
      process.stdout.write(`Created ${r.config.name} (${r.config.uuid}) from ${path.resolve(source)} in ${r.dir}\n`);
    });

  program
    .command('v2p')
    .argument('<name>', 'a stopped machine')
    .argument('<target>', 'a new raw image file, or a block device (with --yes-overwrite-device)')
    .description("write a machine's disk out as a raw image or onto a physical disk")
    .option('--disk <id>', 'which disk (disk0, disk1...; default: the first)')
    .option('--yes-overwrite-device', 'confirm that everything on the target block device is destroyed')
    .action(async (name: string, target: string, o: { disk?: string; yesOverwriteDevice?: boolean }) => {
      const { task, result } = runV2p(core, name, path.resolve(target), {
        ...(o.disk !== undefined && { disk: o.disk }),
        confirmDevice: o.yesOverwriteDevice === true,
      });
      showProgress(core, task.id);
      const r = await result;
      process.stdout.write(`Wrote ${gib(r.bytes)} of ${name} to ${r.target}${r.device ? ' (block device)' : ''}\n`);
    });
}
