/**
 * `vmdesk migrate NAME --to HOST`: live migration of a running machine, one line per pre-copy round.
 * A machine with encrypted disks needs its passphrase for a live one (asked as `start` asks).
 */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MigrateOptions, MigrationOutcome } from '../../api/migration.js';
import { createApiProxy } from '../../api/proxy.js';
import type { Core } from '../../core/core.js';
import { HostManager } from '../../core/hosts/host-manager.js';
import { migrateTask } from '../../core/migration/outgoing.js';
import { coreText, formatNumber, t } from '../../i18n/i18n.js';
import { warn } from '../output.js';
import { isEncrypted } from '../../core/storage/encryption.js';
import { passphraseFileOption, readPassphrase } from './encrypt.js';

interface Options {
  to: string;
  bandwidth?: number;
  maxDowntime?: number;
  autoConverge?: boolean;
  offline?: boolean;
  json?: boolean;
  passphraseFile?: string;
}

function positive(flag: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1)
      throw new VmdeskError('INVALID_INPUT', t('cli.invalid.wholeAbove0', { flag, value: value.slice(0, 40) }));
    return n;
  };
}

export function registerMigrateCommand(program: Command, core: Core): void {
  program
    .command('migrate')
    .argument('<name>', t('commands.migrate.machine'))
    .description(t('commands.migrate.description'))
    .requiredOption('--to <host>', t('commands.migrate.to'))
    .option('--bandwidth <MiB/s>', t('commands.migrate.bandwidth'), positive('--bandwidth'))
    .option('--max-downtime <ms>', t('commands.migrate.maxDowntime'), positive('--max-downtime'))
    .option('--auto-converge', t('commands.migrate.autoConverge'))
    .option('--offline', t('commands.migrate.offline'))
    .option('--json', t('commands.migrate.json'))
    .addOption(passphraseFileOption())
    .action(async (name: string, o: Options) => {
      // Asked before the SSH connection, and only of a machine that can go live (the checks say why
      // another cannot); an offline migration carries its encrypted images as they are, with no key.
      const { config } = await core.library.find(name);
      const live = !o.offline && core.runtime.isRunning(config.uuid);
      const key = live && isEncrypted(config) ? { passphrase: await readPassphrase(o.passphraseFile, config.name) } : {};
      const hosts = new HostManager({ home: core.library.home, env: core.env });
      try {
        await hosts.connect(o.to, { bulk: !o.offline });
        const options: MigrateOptions = {
          to: o.to,
          ...(o.bandwidth ? { bandwidthMiBs: o.bandwidth } : {}),
          ...(o.maxDowntime ? { maxDowntimeMs: o.maxDowntime } : {}),
          ...(o.autoConverge ? { autoConverge: true } : {}),
          ...(o.offline ? { offline: true } : {}),
          ...key,
        };
        const { task, result } = await migrateTask(core, name, options, {
          name: o.to,
          api: createApiProxy((method, args) => hosts.call(o.to, method, args)),
          forward: (remotePath) => hosts.forwardPath(o.to, remotePath),
        });
        let last = '';
        core.tasks.on('task', (t) => {
          if (t.id !== task.id || !t.message || t.message === last) return;
          last = t.message;
          if (!o.json) process.stderr.write(`${coreText(t.message)}\n`);
        });
        const outcome: MigrationOutcome = await result;
        warn(outcome.warnings);
        const mib = (n: number): string => formatNumber(Math.round(n / 1048576));
        const moved = {
          name: outcome.name,
          to: outcome.to,
          seconds: formatNumber(outcome.totalMs / 1000, 1),
          disk: mib(outcome.diskBytes),
          ram: mib(outcome.ramBytes),
          downtime: outcome.downtimeMs === null ? '?' : formatNumber(outcome.downtimeMs),
          rounds: outcome.rounds.length,
        };
        process.stdout.write(
          o.json
            ? JSON.stringify(outcome, null, 2) + '\n'
            : `${t(o.offline ? 'commands.migrate.movedOffline' : 'commands.migrate.movedLive', moved)}\n`,
        );
      } finally {
        hosts.close();
      }
    });
}
