/** `vmdesk ksm [on|off]`: the host's page sharing (KSM), its figures and each running machine's merged pages. */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { KsmInput, KsmStatus } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { DEFAULT_PAGES_TO_SCAN, DEFAULT_SLEEP_MS, ksmStatus, setKsm } from '../../core/resources/ksm.js';
import { formatNumber, t } from '../../i18n/i18n.js';
import { table } from '../format.js';

interface Options {
  pagesToScan?: number;
  sleepMs?: number;
  json?: boolean;
}

function whole(flag: string) {
  return (value: string): number => {
    const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1)
      throw new VmdeskError('INVALID_INPUT', t('cli.invalid.wholeAbove0', { flag, value: value.slice(0, 40) }));
    return n;
  };
}

export function ksmInputFrom(state: string | undefined, o: Options): KsmInput | null {
  const rate = o.pagesToScan !== undefined || o.sleepMs !== undefined;
  if (state === undefined) {
    if (rate) throw new VmdeskError('INVALID_INPUT', t('commands.ksm.rateNeedsOn'));
    return null;
  }
  if (state !== 'on' && state !== 'off') throw new VmdeskError('INVALID_INPUT', t('commands.ksm.onOrOff', { value: state.slice(0, 40) }));
  if (state === 'off' && rate) throw new VmdeskError('INVALID_INPUT', t('commands.ksm.rateNotOff'));
  return {
    enabled: state === 'on',
    ...(o.pagesToScan !== undefined && { pagesToScan: o.pagesToScan }),
    ...(o.sleepMs !== undefined && { sleepMs: o.sleepMs }),
  };
}

const MiB = 1024 * 1024;
const mib = (bytes: number | null): string => (bytes === null ? '-' : `${formatNumber(bytes / MiB, 1)} MiB`);
const count = (n: number | null): string => (n === null ? '-' : formatNumber(n));

const KSM_COLUMNS = ['machine', 'sharing', 'merging', 'merged', 'profit'] as const;

export function formatKsm(s: KsmStatus): string {
  if (!s.available) return t('commands.ksm.unavailable');
  const state = t(s.running ? 'commands.ksm.running' : 'commands.ksm.stopped');
  const control = t(s.controlledByVmdesk ? 'commands.ksm.byVmdesk' : 'commands.ksm.byHost');
  const rate =
    s.pagesToScan !== null && s.sleepMs !== null
      ? t('commands.ksm.rate', {
          pages: formatNumber(s.pagesToScan),
          ms: formatNumber(s.sleepMs),
          most: mib((s.pagesToScan * s.pageSize * 1000) / s.sleepMs),
        })
      : '-';
  const notGiven = t('commands.ksm.notGiven');
  const rows: string[][] = [
    ['KSM', `${state}, ${control}`],
    [t('commands.ksm.scanRate'), rate],
    [
      t('commands.ksm.pages'),
      t('commands.ksm.pagesValue', { shared: count(s.pagesShared), sharing: count(s.pagesSharing), zero: count(s.zeroPages) }),
    ],
    [t('commands.ksm.saved'), mib(s.savedBytes)],
    [t('commands.ksm.profit'), s.generalProfitBytes === null ? notGiven : mib(s.generalProfitBytes)],
  ];
  if (!s.writable && s.command) rows.push([t('commands.ksm.toChange'), t('commands.ksm.asRoot', { command: s.command })]);
  const lines = [table(rows)];
  if (s.machines.length === 0) lines.push('', t('commands.ksm.noMachines'));
  else {
    const machines = [KSM_COLUMNS.map((column) => t(`commands.ksm.header.${column}`))];
    for (const m of s.machines)
      machines.push([
        m.name,
        t(m.pageSharing ? 'commands.ksm.allowed' : 'cli.format.off'),
        m.mergingPages === null ? notGiven : count(m.mergingPages),
        m.mergingPages === null ? '-' : mib(m.mergingPages * s.pageSize),
        mib(m.profitBytes),
      ]);
    lines.push('', table(machines));
  }
  return lines.join('\n');
}

export function registerKsmCommand(program: Command, core: Core): void {
  program
    .command('ksm')
    .argument('[state]', t('commands.ksm.state'))
    .description(t('commands.ksm.description'))
    .option('--pages-to-scan <n>', t('commands.ksm.pagesToScan', { default: DEFAULT_PAGES_TO_SCAN }), whole('--pages-to-scan'))
    .option('--sleep-ms <ms>', t('commands.ksm.sleepMs', { default: DEFAULT_SLEEP_MS }), whole('--sleep-ms'))
    .option('--json', t('cli.json'))
    .action(async (state: string | undefined, o: Options) => {
      const input = ksmInputFrom(state, o);
      const status = input === null ? await ksmStatus(core) : await setKsm(core, input);
      process.stdout.write((o.json ? JSON.stringify(status, null, 2) : formatKsm(status)) + '\n');
    });
}
