/** `vmdesk backup`, `vmdesk backups`, `vmdesk backup-restore`, `vmdesk backup-verify`. */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { BackupList } from '../../api/backup.js';
import { VmdeskError } from '../../api/errors.js';
import { backupTask, listBackups, restoreBackupTask, verifyBackupsTask } from '../../core/backup/backup-ops.js';
import { formatBytes } from '../../core/clone/staging.js';
import type { Core } from '../../core/core.js';
import { showTaskProgress } from './clone.js';

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text);
}

function keepArg(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('keep is a number of points, 1 or more');
  return Number(value);
}

function pointArg(value: string): number | 'latest' {
  if (value === 'latest') return value;
  if (!/^[0-9]{1,7}$/.test(value)) throw new InvalidArgumentError('a point is its number in `vmdesk backups NAME`, or "latest"');
  return Number(value);
}

export function formatBackupList(list: BackupList): string {
  const rows = list.points.map(
    (p) =>
      `${String(p.point).padStart(5)}  ${p.kind.padEnd(11)}  ${p.createdAt.slice(0, 19).replace('T', ' ')}  ${formatBytes(p.bytes).padStart(10)}` +
      (p.reason ? `  (${p.reason})` : ''),
  );
  return [
    `Backups of ${list.machine.name} in ${list.dir}:`,
    `point  kind         date                       size`,
    ...rows,
    `total ${formatBytes(list.totalBytes)}`,
    '',
  ].join('\n');
}

export function registerBackupCommands(program: Command, core: Core): void {
  program
    .command('backup')
    .argument('<name>')
    .description('back a machine up (running or stopped): the first point of a chain is full, the next ones copy only what changed')
    .option('--to <dir>', 'the backup folder (by default the last one used for this machine)')
    .option('--full', 'a full point even when an incremental one could be made')
    .option('--keep <n>', 'keep the newest N points: the older ones are merged into the oldest kept', keepArg)
    .option('--json', 'print the result as JSON')
    .action(async (name: string, o: { to?: string; full?: boolean; keep?: number; json?: boolean }) => {
      const { task, result } = await backupTask(core, name, {
        ...(o.to !== undefined && { to: path.resolve(o.to) }),
        full: o.full === true,
        ...(o.keep !== undefined && { keep: o.keep }),
      });
      showTaskProgress(core, task.id);
      const r = await result;
      const why = r.reason ? ` because ${r.reason}` : '';
      print(
        o.json,
        r,
        `Point ${r.point} of ${name}: ${r.kind}${why}, ${formatBytes(r.bytes)} of ${formatBytes(r.virtualBytes)} in ${(r.ms / 1000).toFixed(1)} s (${r.via}) → ${r.dir}\n` +
          (r.pruned.length > 0 ? `Dropped points ${r.pruned.join(', ')} (--keep)\n` : ''),
      );
    });

  program
    .command('backups')
    .argument('<name>', 'the machine (or, with --from, the name of a machine that is gone)')
    .description("list a machine's backup points: date, kind, size")
    .option('--from <dir>', "the backup folder or the chain folder (by default the machine's last backup folder)")
    .option('--json', 'print the list as JSON')
    .action(async (name: string, o: { from?: string; json?: boolean }) => {
      const list = await listBackups(core, name, o.from !== undefined ? { from: path.resolve(o.from) } : {});
      print(o.json, list, list ? formatBackupList(list) : `${name} has no backups yet\n`);
    });

  program
    .command('backup-restore')
    .argument('<name>', 'the machine whose chain to read (or, with --from, the name of a machine that is gone)')
    .argument('<point>', 'the point number (see `vmdesk backups NAME`), or "latest"', pointArg)
    .description('recreate a machine from a backup point: as a new machine (--as NEW), or over the stopped machine (--force)')
    .option('--as <new>', 'the name of the new machine')
    .option('--force', 'replace the machine itself (its disks and snapshots) with the backup point')
    .option('--yes', 'the same as --force')
    .option('--from <dir>', 'the backup folder or the chain folder')
    .option('--json', 'print the result as JSON')
    .action(
      async (name: string, point: number | 'latest', o: { as?: string; force?: boolean; yes?: boolean; from?: string; json?: boolean }) => {
        const { task, result } = await restoreBackupTask(core, name, {
          point,
          ...(o.as !== undefined && { as: o.as }),
          force: o.force === true || o.yes === true,
          ...(o.from !== undefined && { from: path.resolve(o.from) }),
        });
        showTaskProgress(core, task.id);
        const r = await result;
        print(o.json, r, `Restored point ${r.point} as ${r.name} (${r.uuid}) in ${r.dir}\n`);
      },
    );

  program
    .command('backup-verify')
    .argument('<name>', 'the machine (or, with --from, the name of a machine that is gone)')
    .description("check every image of a machine's backup chain: qemu-img check, checksums, backing links")
    .option('--from <dir>', 'the backup folder or the chain folder')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, o: { from?: string; json?: boolean }) => {
      const { task, result } = await verifyBackupsTask(core, name, o.from !== undefined ? { from: path.resolve(o.from) } : {});
      showTaskProgress(core, task.id);
      const r = await result;
      print(
        o.json,
        r,
        r.problems.length === 0
          ? `${r.points} points, ${r.images} images: all intact (${r.dir})\n`
          : r.problems.map((p) => `${p}\n`).join(''),
      );
      if (r.problems.length > 0) throw new VmdeskError('INVALID_INPUT', `The backup chain in ${r.dir} has ${r.problems.length} problems`);
    });
}
