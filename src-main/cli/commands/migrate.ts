/** `vmdesk migrate NAME --to HOST`: live migration of a running machine, one line per pre-copy round. */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MigrateOptions, MigrationOutcome } from '../../api/migration.js';
import { createApiProxy } from '../../api/proxy.js';
import type { Core } from '../../core/core.js';
import { HostManager } from '../../core/hosts/host-manager.js';
import { migrateTask } from '../../core/migration/outgoing.js';

interface Options {
  to: string;
  bandwidth?: number;
  maxDowntime?: number;
  autoConverge?: boolean;
  offline?: boolean;
  json?: boolean;
}

function positive(flag: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1)
      throw new VmdeskError('INVALID_INPUT', `${flag} must be a whole number above 0, not "${value.slice(0, 40)}"`);
    return n;
  };
}

export function registerMigrateCommand(program: Command, core: Core): void {
  program
    .command('migrate')
    .argument('<name>', 'the machine (running; stopped with --offline)')
    .description('move a machine to a remote host through SSH: a running one without stopping it (RAM pre-copy, disks mirrored)')
    .requiredOption('--to <host>', 'the destination host (see vmdesk hosts)')
    .option('--bandwidth <MiB/s>', 'limit the migration stream', positive('--bandwidth'))
    .option('--max-downtime <ms>', 'the longest pause allowed at switchover (QEMU default: 300)', positive('--max-downtime'))
    .option('--auto-converge', 'slow the guest down when it dirties memory faster than the link sends it')
    .option('--offline', 'move a stopped machine: its folder (disks, snapshots, saved state) copied')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, o: Options) => {
      const hosts = new HostManager({ home: core.library.home, env: core.env });
      try {
        await hosts.connect(o.to);
        const options: MigrateOptions = {
          to: o.to,
          ...(o.bandwidth ? { bandwidthMiBs: o.bandwidth } : {}),
          ...(o.maxDowntime ? { maxDowntimeMs: o.maxDowntime } : {}),
          ...(o.autoConverge ? { autoConverge: true } : {}),
          ...(o.offline ? { offline: true } : {}),
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
          if (!o.json) process.stderr.write(`${t.message}\n`);
        });
        const outcome: MigrationOutcome = await result;
        for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
        const mib = (n: number): number => Math.round(n / 1048576);
        process.stdout.write(
          o.json
            ? JSON.stringify(outcome, null, 2) + '\n'
            : o.offline
              ? `${outcome.name} is on ${outcome.to}: ${(outcome.totalMs / 1000).toFixed(1)} s, ${mib(outcome.diskBytes)} MiB copied\n`
              : `${outcome.name} runs on ${outcome.to}: ${(outcome.totalMs / 1000).toFixed(1)} s in all, downtime ` +
                `${outcome.downtimeMs ?? '?'} ms, ${outcome.rounds.length} RAM rounds, ${Math.round(outcome.ramBytes / 1048576)} MiB of RAM ` +
                `and ${Math.round(outcome.diskBytes / 1048576)} MiB of disk sent\n`,
        );
      } finally {
        hosts.close();
      }
    });
}
