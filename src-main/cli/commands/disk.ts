/** `vmdesk disk`, `vmdesk cdrom` and `vmdesk media`. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MediumInfo } from '../../api/storage.js';
import type { Core } from '../../core/core.js';
import { parseSize } from '../../core/qemu/qemu-img.js';
import { trustBackingOption } from '../trust-backing.js';
import { formatSize, t } from '../../i18n/i18n.js';
import { warn } from '../output.js';
import { addDiskOp, changeMediumOp, listMediaOp, removeDiskOp, resizeDiskOp } from '../../core/storage/storage-ops.js';
import { table } from '../format.js';

const MEDIA_COLUMNS = ['file', 'format', 'virtual', 'onDisk', 'backing', 'usedBy'] as const;

export function formatMedia(media: MediumInfo[]): string {
  if (media.length === 0) return t('commands.disk.noMedia');
  const rows = [MEDIA_COLUMNS.map((column) => t(`commands.disk.mediaHeader.${column}`))];
  for (const m of media) {
    const users = m.users
      .map(
        (u) =>
          `${u.name}:${u.device}${u.use === 'disk' || u.use === 'cdrom' ? '' : u.use === 'snapshot' ? ` ${t('commands.disk.usedBySnapshot', { snapshot: u.snapshot ?? '' })}` : ` ${t('commands.disk.usedAsBacking')}`}`,
      )
      .join(', ');
    rows.push([
      m.file,
      m.error ? `${t('cli.errorPrefix')} ${m.error}` : m.format,
      formatSize(m.virtualSize),
      formatSize(m.actualSize),
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
    .argument('<name>', t('cli.theMachine'))
    .argument('<action>', t('commands.disk.action'))
    .argument('[args...]', t('commands.disk.args'))
    .description(t('commands.disk.description'))
    .option('--size <size>', t('commands.disk.size'))
    .addOption(new Option('--format <format>', t('commands.disk.format')).choices(['qcow2', 'raw']))
    .option('--file <path>', t('commands.disk.file'))
    .addOption(trustBackingOption())
    .addOption(new Option('--bus <bus>', t('commands.disk.bus')).choices(['virtio', 'sata']))
    .option('--delete-file', t('commands.disk.deleteFile'))
    .option('--force-shrink', t('commands.disk.forceShrink'))
    .action(async (name: string, action: string, args: string[], o: DiskOptions) => {
      const wantArgs = { add: 0, remove: 1, resize: 2 }[action];
      if (wantArgs === undefined)
        throw new VmdeskError(
          'INVALID_INPUT',
          t('cli.invalid.unknownAction', { command: 'disk', action, actions: t('commands.disk.action') }),
        );
      if (args.length !== wantArgs)
        throw new VmdeskError(
          'INVALID_INPUT',
          action === 'remove'
            ? t('commands.disk.useRemove')
            : action === 'resize'
              ? t('commands.disk.useResize')
              : t('commands.disk.useAdd'),
        );
      const misplaced = [
        ...(action !== 'add' ? (['size', 'format', 'file', 'trustBacking', 'bus'] as const) : []),
        ...(action !== 'remove' ? (['deleteFile'] as const) : []),
        ...(action !== 'resize' ? (['forceShrink'] as const) : []),
      ].filter((k) => o[k] !== undefined);
      if (misplaced.length > 0)
        throw new VmdeskError(
          'INVALID_INPUT',
          t('cli.invalid.misplacedOption', { option: `--${misplaced[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, action }),
        );
      if (action === 'add') {
        if ((o.size === undefined) === (o.file === undefined)) throw new VmdeskError('INVALID_INPUT', t('commands.disk.sizeOrFile'));
        const r = await addDiskOp(core, name, {
          ...(o.size !== undefined && { sizeBytes: parseSize(o.size) }),
          ...(o.format !== undefined && { format: o.format }),
          ...(o.file !== undefined && { file: path.resolve(o.file) }),
          ...(o.trustBacking !== undefined && { trustBacking: o.trustBacking }),
          ...(o.bus !== undefined && { bus: o.bus }),
        });
        warn(r.warnings);
        process.stdout.write(`${t('commands.disk.added', { id: r.id, file: r.file, name })}\n`);
      } else if (action === 'remove') {
        const diskId = args[0] ?? '';
        const r = await removeDiskOp(core, name, diskId, { deleteFile: o.deleteFile === true });
        warn(r.warnings);
        const removed = r.deleted
          ? t('commands.disk.removedDeleted', { id: diskId, name, file: r.deleted })
          : t('commands.disk.removed', { id: diskId, name });
        process.stdout.write(`${removed}\n`);
      } else {
        const [diskId = '', size = ''] = args;
        const r = await resizeDiskOp(core, name, diskId, parseSize(size), { forceShrink: o.forceShrink === true });
        warn(r.warnings);
        const resized = t('commands.disk.resized', { id: diskId, name, from: formatSize(r.previousBytes), to: formatSize(r.sizeBytes) });
        process.stdout.write(`${resized}${r.live ? ` ${t('commands.disk.live')}` : ''}\n`);
      }
    });

  program
    .command('cdrom')
    .argument('<name>', t('cli.theMachine'))
    .argument('<action>', t('commands.disk.cdromAction'))
    .argument('[iso]', t('commands.disk.cdromIso'))
    .description(t('commands.disk.cdromDescription'))
    .action(async (name: string, action: string, iso: string | undefined) => {
      if (action !== 'insert' && action !== 'eject') throw new VmdeskError('INVALID_INPUT', t('commands.disk.useCdrom'));
      if (action === 'insert' && iso === undefined) throw new VmdeskError('INVALID_INPUT', t('commands.disk.whichIso'));
      if (action === 'eject' && iso !== undefined) throw new VmdeskError('INVALID_INPUT', t('commands.disk.ejectNoIso'));
      const r = await changeMediumOp(core, name, iso === undefined ? null : path.resolve(iso));
      warn(r.warnings);
      const done =
        action === 'insert' ? t('commands.disk.inserted', { iso: path.resolve(iso ?? ''), name }) : t('commands.disk.ejected', { name });
      process.stdout.write(`${done}${r.live ? ` ${t('commands.disk.live')}` : ''}\n`);
    });

  program
    .command('media')
    .description(t('commands.disk.mediaDescription'))
    .option('--json', t('cli.json'))
    .action(async (o: { json?: boolean }) => {
      const media = await listMediaOp(core);
      process.stdout.write((o.json ? JSON.stringify(media, null, 2) : formatMedia(media)) + '\n');
    });
}
