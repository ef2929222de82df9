/** `vmdesk disk`, `vmdesk cdrom` and `vmdesk media`. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MediumInfo } from '../../api/storage.js';
import type { Core } from '../../core/core.js';
import { parseSize } from '../../core/qemu/qemu-img.js';
import { formatBytes } from '../../core/clone/staging.js';
import { addDiskOp, changeMediumOp, listMediaOp, removeDiskOp, resizeDiskOp } from '../../core/storage/storage-ops.js';
import { table } from '../format.js';

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

export function formatMedia(media: MediumInfo[]): string {
  if (media.length === 0) return 'No disk images or ISOs in use.';
  const rows = [['FILE', 'FORMAT', 'VIRTUAL', 'ON DISK', 'BACKING FILE', 'USED BY']];
  for (const m of media) {
    const users = m.users
      .map(
        (u) =>
          `${u.name}:${u.device}${u.use === 'disk' || u.use === 'cdrom' ? '' : u.use === 'snapshot' ? ` (snapshot ${u.snapshot ?? ''})` : ' (backing)'}`,
      )
      .join(', ');
    rows.push([
      m.file,
      m.error ? `error: ${m.error}` : m.format,
      formatBytes(m.virtualSize),
      formatBytes(m.actualSize),
      m.backingFile ?? '-',
      users || '-',
    ]);
  }
  return table(rows);
}

export function registerDiskCommands(program: Command, core: Core): void {
  const disk = program.command('disk').description("add, remove or resize a machine's disks");

  disk
    .command('add')
    .argument('<name>', 'the machine')
    .description('add a new empty disk (--size) or an existing image (--file)')
    .option('--size <size>', 'size of a new disk, e.g. 10G')
    .addOption(new Option('--format <format>', 'format of a new disk').choices(['qcow2', 'raw']))
    .option('--file <path>', 'an existing image, used in place')
    .addOption(new Option('--bus <bus>', 'disk controller').choices(['virtio', 'sata']))
    .action(async (name: string, o: { size?: string; format?: 'qcow2' | 'raw'; file?: string; bus?: 'virtio' | 'sata' }) => {
      if ((o.size === undefined) === (o.file === undefined))
        throw new VmdeskError('INVALID_INPUT', 'Give either --size for a new disk or --file for an existing image');
      const r = await addDiskOp(core, name, {
        ...(o.size !== undefined && { sizeBytes: parseSize(o.size) }),
        ...(o.format !== undefined && { format: o.format }),
        ...(o.file !== undefined && { file: path.resolve(o.file) }),
        ...(o.bus !== undefined && { bus: o.bus }),
      });
      warn(r.warnings);
      process.stdout.write(`Added ${r.id} (${r.file}) to ${name}\n`);
    });

  disk
    .command('remove')
    .argument('<name>', 'the machine')
    .argument('<disk>', 'the disk id, e.g. disk1')
    .description('remove a disk (its file is kept unless --delete-file)')
    .option('--delete-file', 'also delete the image file (only files in the machine folder)')
    .action(async (name: string, diskId: string, o: { deleteFile?: boolean }) => {
      const r = await removeDiskOp(core, name, diskId, { deleteFile: o.deleteFile === true });
      warn(r.warnings);
      process.stdout.write(`Removed ${diskId} from ${name}${r.deleted ? `; deleted ${r.deleted}` : ''}\n`);
    });

  disk
    .command('resize')
    .argument('<name>', 'the machine')
    .argument('<disk>', 'the disk id, e.g. disk0')
    .argument('<size>', 'the new size, e.g. 20G')
    .description('grow a disk (live when the machine runs); shrinking needs --force-shrink')
    .option('--force-shrink', 'allow shrinking (data beyond the new size is lost)')
    .action(async (name: string, diskId: string, size: string, o: { forceShrink?: boolean }) => {
      const r = await resizeDiskOp(core, name, diskId, parseSize(size), { forceShrink: o.forceShrink === true });
      warn(r.warnings);
      process.stdout.write(
        `Resized ${diskId} of ${name} from ${formatBytes(r.previousBytes)} to ${formatBytes(r.sizeBytes)}${r.live ? ' (live)' : ''}\n`,
      );
    });

  program
    .command('cdrom')
    .argument('<name>', 'the machine')
    .argument('<action>', 'insert or eject')
    .argument('[iso]', 'the ISO image to insert')
    .description('insert an ISO into the CD-ROM drive or eject it (live when the machine runs)')
    .action(async (name: string, action: string, iso: string | undefined) => {
      if (action !== 'insert' && action !== 'eject')
        throw new VmdeskError('INVALID_INPUT', 'Use: vmdesk cdrom NAME insert ISO, or vmdesk cdrom NAME eject');
      if (action === 'insert' && iso === undefined) throw new VmdeskError('INVALID_INPUT', 'Which ISO? vmdesk cdrom NAME insert ISO');
      if (action === 'eject' && iso !== undefined) throw new VmdeskError('INVALID_INPUT', 'eject takes no ISO');
      const r = await changeMediumOp(core, name, iso === undefined ? null : path.resolve(iso));
      warn(r.warnings);
      const what = action === 'insert' ? `Inserted ${path.resolve(iso ?? '')} into` : 'Ejected the CD of';
      process.stdout.write(`${what} ${name}${r.live ? ' (live)' : ''}\n`);
    });

  program
    .command('media')
    .description('list every disk image and ISO the machines use, with backing chains and users')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const media = await listMediaOp(core);
      process.stdout.write((o.json ? JSON.stringify(media, null, 2) : formatMedia(media)) + '\n');
    });
}
