/**
 * `vmdesk backup`, `vmdesk backups`, `vmdesk backup-restore`, `vmdesk backup-verify`. An encrypted
 * machine's passphrase is asked as `start` asks it (or read from --passphrase-file): for a backup of
 * it stopped, and for a restore of an encrypted point, which the CLI learns from the chain.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { BackupKind, BackupList, BackupRestoreInput } from '../../api/backup.js';
import type { Retention } from '../../api/schedule.js';
import { VmdeskError } from '../../api/errors.js';
import { backupTask, listBackups, restoreBackupTask, verifyBackupsTask } from '../../core/backup/backup-ops.js';
import type { Core } from '../../core/core.js';
import { formatNumber, formatSize, t } from '../../i18n/i18n.js';
import { showTaskProgress } from '../output.js';
import { passphraseFileOption, readPassphrase } from './encrypt.js';
import { count } from './schedule.js';
import { passphraseFor } from './snapshot.js';

const kind = (k: BackupKind): string => t(`commands.backup.kinds.${k}`);

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text);
}

function keepArg(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(t('commands.backup.keepInvalid'));
  return Number(value);
}

function pointArg(value: string): number | 'latest' {
  if (value === 'latest') return value;
  if (!/^[0-9]{1,7}$/.test(value)) throw new InvalidArgumentError(t('commands.backup.pointInvalid'));
  return Number(value);
}

function needsPassphrase(err: unknown): boolean {
  return err instanceof VmdeskError && (err.details as { needsPassphrase?: boolean } | undefined)?.needsPassphrase === true;
}

export function formatBackupList(list: BackupList): string {
  const rows = list.points.map(
    (p) =>
      `${String(p.point).padStart(5)}  ${kind(p.kind).padEnd(11)}  ${p.createdAt.slice(0, 19).replace('T', ' ')}  ${formatSize(p.bytes).padStart(10)}` +
      (p.encrypted ? `  ${t('commands.backup.encrypted')}` : '') +
      (p.reason ? `  (${p.reason})` : ''),
  );
  return [
    t('commands.backup.listTitle', { name: list.machine.name, dir: list.dir }),
    t('commands.backup.listHeader'),
    ...rows,
    t('commands.backup.total', { size: formatSize(list.totalBytes) }),
    '',
  ].join('\n');
}

interface BackupOptions {
  to?: string;
  full?: boolean;
  keep?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  passphraseFile?: string;
  json?: boolean;
}

export function registerBackupCommands(program: Command, core: Core): void {
  program
    .command('backup')
    .argument('<name>')
    .description(t('commands.backup.description'))
    .option('--to <dir>', t('commands.backup.to'))
    .option('--full', t('commands.backup.full'))
    .option('--keep <n>', t('commands.backup.keep'), keepArg)
    .option('--keep-hourly <n>', t('commands.schedule.keepHourlyOption'), count('--keep-hourly'))
    .option('--keep-daily <n>', t('commands.schedule.keepDailyOption'), count('--keep-daily'))
    .option('--keep-weekly <n>', t('commands.schedule.keepWeeklyOption'), count('--keep-weekly'))
    .addOption(passphraseFileOption())
    .option('--json', t('cli.jsonResult'))
    .action(async (name: string, o: BackupOptions) => {
      // --keep N is keep-last, one rule among the --keep-* ones.
      const rules = { keepLast: o.keep, keepHourly: o.keepHourly, keepDaily: o.keepDaily, keepWeekly: o.keepWeekly };
      const retention = Object.fromEntries(Object.entries(rules).filter(([, n]) => n !== undefined)) as Retention;
      const { task, result } = await backupTask(core, name, {
        ...(o.to !== undefined && { to: path.resolve(o.to) }),
        full: o.full === true,
        ...(Object.keys(retention).length > 0 && { retention }),
        // A running machine's QEMU holds the key already.
        ...(await passphraseFor(core, name, o.passphraseFile, true)),
      });
      showTaskProgress(core, task.id);
      const r = await result;
      const made = {
        point: r.point,
        name,
        kind: kind(r.kind),
        bytes: formatSize(r.bytes),
        virtual: formatSize(r.virtualBytes),
        seconds: formatNumber(r.ms / 1000, 1),
        via: r.via,
        dir: r.dir,
      };
      print(
        o.json,
        r,
        `${r.reason ? t('commands.backup.madeBecause', { ...made, reason: r.reason }) : t('commands.backup.made', made)}\n` +
          (r.pruned.length > 0 ? `${t('commands.backup.dropped', { points: r.pruned.join(', ') })}\n` : ''),
      );
    });

  program
    .command('backups')
    .argument('<name>', t('commands.backup.machineOrGone'))
    .description(t('commands.backup.listDescription'))
    .option('--from <dir>', t('commands.backup.fromDefault'))
    .option('--json', t('commands.backup.jsonList'))
    .action(async (name: string, o: { from?: string; json?: boolean }) => {
      const list = await listBackups(core, name, o.from !== undefined ? { from: path.resolve(o.from) } : {});
      print(o.json, list, list ? formatBackupList(list) : `${t('commands.backup.none', { name })}\n`);
    });

  program
    .command('backup-restore')
    .argument('<name>', t('commands.backup.chainOf'))
    .argument('<point>', t('commands.backup.point'), pointArg)
    .description(t('commands.backup.restoreDescription'))
    .option('--as <new>', t('commands.backup.as'))
    .option('--force', t('commands.backup.force'))
    .option('--yes', t('commands.backup.yes'))
    .option('--from <dir>', t('commands.backup.from'))
    .addOption(passphraseFileOption())
    .option('--json', t('cli.jsonResult'))
    .action(
      async (
        name: string,
        point: number | 'latest',
        o: { as?: string; force?: boolean; yes?: boolean; from?: string; passphraseFile?: string; json?: boolean },
      ) => {
        const input: BackupRestoreInput = {
          point,
          ...(o.as !== undefined && { as: o.as }),
          force: o.force === true || o.yes === true,
          ...(o.from !== undefined && { from: path.resolve(o.from) }),
          ...(o.passphraseFile !== undefined && { passphrase: await readPassphrase(o.passphraseFile, name) }),
        };
        // Whether the point is encrypted is in the chain: asked on the terminal only when it says so.
        const { task, result } = await restoreBackupTask(core, name, input).catch(async (err: unknown) => {
          if (input.passphrase !== undefined || !needsPassphrase(err)) throw err;
          return restoreBackupTask(core, name, { ...input, passphrase: await readPassphrase(undefined, name) });
        });
        showTaskProgress(core, task.id);
        const r = await result;
        print(o.json, r, `${t('commands.backup.restored', { point: r.point, name: r.name, uuid: r.uuid, dir: r.dir })}\n`);
      },
    );

  program
    .command('backup-verify')
    .argument('<name>', t('commands.backup.machineOrGone'))
    .description(t('commands.backup.verifyDescription'))
    .option('--from <dir>', t('commands.backup.from'))
    .addOption(passphraseFileOption())
    .option('--json', t('cli.jsonResult'))
    .action(async (name: string, o: { from?: string; passphraseFile?: string; json?: boolean }) => {
      // Only from a file, never asked: without it an encrypted image is checked without the key.
      const { task, result } = await verifyBackupsTask(core, name, {
        ...(o.from !== undefined && { from: path.resolve(o.from) }),
        ...(o.passphraseFile !== undefined && { passphrase: await readPassphrase(o.passphraseFile, name) }),
      });
      showTaskProgress(core, task.id);
      const r = await result;
      print(
        o.json,
        r,
        r.problems.length === 0
          ? `${t('commands.backup.intact', { points: r.points, images: r.images, dir: r.dir })}\n`
          : r.problems.map((p) => `${p}\n`).join(''),
      );
      if (r.problems.length > 0)
        throw new VmdeskError('INVALID_INPUT', t('commands.backup.problems', { dir: r.dir, n: r.problems.length }));
    });
}
