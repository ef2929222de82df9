/** `vmdesk disk`, `vmdesk cdrom` and `vmdesk media`. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MediumInfo } from '../../api/storage.js';
import type { Core } from '../../core/core.js';
import { parseSize } from '../../core/qemu/qemu-img.js';
import { trustBackingOption } from '../trust-backing.js';
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

interface DiskOptions {
  size?: string;
  format?: 'qcow2' | 'raw';
  file?: string;
  trustBacking?: string[];
  bus?: 'virtio' | 'sata';
  deleteFile?: boolean;
  forceShrink?: boolean;
}

export function registerDiskCommands(program: Command, core: Core): void {
  program
    .command('disk')
    .argument('<name>', 'the machine')
    .argument('<action>', 'add, remove or resize')
    .argument('[args...]', 'remove: DISK; resize: DISK SIZE')
    .description(
      "add, remove or resize a machine's disks: disk NAME add --size 10G | --file IMAGE; disk NAME remove DISK; disk NAME resize DISK SIZE",
    )
    .option('--size <size>', 'add: size of a new disk, e.g. 10G')
    .addOption(new Option('--format <format>', 'add: format of a new disk').choices(['qcow2', 'raw']))
    .option('--file <path>', 'add: an existing image, used in place')
    .addOption(trustBackingOption())
    .addOption(new Option('--bus <bus>', 'add: disk controller').choices(['virtio', 'sata']))
    .option('--delete-file', 'remove: also delete the image file (only files in the machine folder)')
    .option('--force-shrink', 'resize: allow shrinking (data beyond the new size is lost)')
    .action(async (name: string, action: string, args: string[], o: DiskOptions) => {
      const wantArgs = { add: 0, remove: 1, resize: 2 }[action];
      if (wantArgs === undefined) throw new VmdeskError('INVALID_INPUT', `Unknown disk action "${action}" (use add, remove or resize)`);
      if (args.length !== wantArgs)
        throw new VmdeskError(
          'INVALID_INPUT',
          action === 'remove'
            ? 'Use: vmdesk disk NAME remove DISK'
            : action === 'resize'
              ? 'Use: vmdesk disk NAME resize DISK SIZE'
              : 'Use: vmdesk disk NAME add --size SIZE | --file IMAGE',
        );
      const misplaced = [
        ...(action !== 'add' ? (['size', 'format', 'file', 'trustBacking', 'bus'] as const) : []),
        ...(action !== 'remove' ? (['deleteFile'] as const) : []),
        ...(action !== 'resize' ? (['forceShrink'] as const) : []),
      ].filter((k) => o[k] !== undefined);
      if (misplaced.length > 0)
        throw new VmdeskError(
          'INVALID_INPUT',
          `Option --${misplaced[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not go with ${action}`,
        );
      if (action === 'add') {
        if ((o.size === undefined) === (o.file === undefined))
          throw new VmdeskError('INVALID_INPUT', 'Give either --size for a new disk or --file for an existing image');
        const r = await addDiskOp(core, name, {
          ...(o.size !== undefined && { sizeBytes: parseSize(o.size) }),
          ...(o.format !== undefined && { format: o.format }),
          ...(o.file !== undefined && { file: path.resolve(o.file) }),
          ...(o.trustBacking !== undefined && { trustBacking: o.trustBacking }),
          ...(o.bus !== undefined && { bus: o.bus }),
        });
        warn(r.warnings);
        process.stdout.write(`Added ${r.id} (${r.file}) to ${name}\n`);
      } else if (action === 'remove') {
        const diskId = args[0] ?? '';
        const r = await removeDiskOp(core, name, diskId, { deleteFile: o.deleteFile === true });
        warn(r.warnings);
        process.stdout.write(`Removed ${diskId} from ${name}${r.deleted ? `; deleted ${r.deleted}` : ''}\n`);
      } else {
        const [diskId = '', size = ''] = args;
        const r = await resizeDiskOp(core, name, diskId, parseSize(size), { forceShrink: o.forceShrink === true });
        warn(r.warnings);
        process.stdout.write(
          `Resized ${diskId} of ${name} from ${formatBytes(r.previousBytes)} to ${formatBytes(r.sizeBytes)}${r.live ? ' (live)' : ''}\n`,
        );
      }
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
