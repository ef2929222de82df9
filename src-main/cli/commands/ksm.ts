/** `vmdesk ksm [on|off]`: the host's page sharing (KSM), its figures and each running machine's merged pages. */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { KsmInput, KsmStatus } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { DEFAULT_PAGES_TO_SCAN, DEFAULT_SLEEP_MS, ksmStatus, setKsm } from '../../core/resources/ksm.js';
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
      throw new VmdeskError('INVALID_INPUT', `${flag} must be a whole number above 0, not "${value.slice(0, 40)}"`);
    return n;
  };
}

export function ksmInputFrom(state: string | undefined, o: Options): KsmInput | null {
  const rate = o.pagesToScan !== undefined || o.sleepMs !== undefined;
  if (state === undefined) {
    if (rate)
      throw new VmdeskError('INVALID_INPUT', 'A scan rate goes with turning page sharing on: vmdesk ksm on --pages-to-scan N --sleep-ms N');
    return null;
  }
  if (state !== 'on' && state !== 'off') throw new VmdeskError('INVALID_INPUT', `vmdesk ksm takes on or off, not "${state.slice(0, 40)}"`);
  if (state === 'off' && rate) throw new VmdeskError('INVALID_INPUT', 'A scan rate goes with on, not off');
  return {
    enabled: state === 'on',
    ...(o.pagesToScan !== undefined && { pagesToScan: o.pagesToScan }),
    ...(o.sleepMs !== undefined && { sleepMs: o.sleepMs }),
  };
}

const MiB = 1024 * 1024;
const mib = (bytes: number | null): string => (bytes === null ? '-' : `${(bytes / MiB).toFixed(1)} MiB`);
const count = (n: number | null): string => (n === null ? '-' : String(n));

export function formatKsm(s: KsmStatus): string {
  if (!s.available) return 'Page sharing (KSM): not available, this kernel has no /sys/kernel/mm/ksm';
  const state = s.running ? 'running' : 'stopped';
  const control = s.controlledByVmdesk ? "turned on by VMDesk (vmdesk ksm off puts the host's own settings back)" : 'as the host set it';
  const rate =
    s.pagesToScan !== null && s.sleepMs !== null
      ? `${s.pagesToScan} pages every ${s.sleepMs} ms (at most ${mib((s.pagesToScan * s.pageSize * 1000) / s.sleepMs)}/s)`
      : '-';
  const rows: string[][] = [
    ['KSM', `${state}, ${control}`],
    ['Scan rate', rate],
    ['Pages', `${count(s.pagesShared)} shared, ${count(s.pagesSharing)} sharing them, ${count(s.zeroPages)} zero pages`],
    ['Memory saved', mib(s.savedBytes)],
    ['General profit', s.generalProfitBytes === null ? 'not given by this kernel' : mib(s.generalProfitBytes)],
  ];
  if (!s.writable && s.command) rows.push(['To change it', `run as root: ${s.command}`]);
  const lines = [table(rows)];
  if (s.machines.length === 0) lines.push('', 'No machine of this library is running.');
  else {
    const machines = [['MACHINE', 'SHARING', 'MERGING PAGES', 'MERGED', 'PROFIT']];
    for (const m of s.machines)
      machines.push([
        m.name,
        m.pageSharing ? 'allowed' : 'off',
        m.mergingPages === null ? 'not given by this kernel' : String(m.mergingPages),
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
    .argument('[state]', 'on or off (without: show the figures)')
    .description(
      "the host's page sharing (KSM): figures, or turn it on (the host's settings kept) or off (restored); changing it needs root",
    )
    .option('--pages-to-scan <n>', `pages scanned per wake-up (with on; default ${DEFAULT_PAGES_TO_SCAN})`, whole('--pages-to-scan'))
    .option('--sleep-ms <ms>', `pause between wake-ups (with on; default ${DEFAULT_SLEEP_MS})`, whole('--sleep-ms'))
    .option('--json', 'print JSON')
    .action(async (state: string | undefined, o: Options) => {
      const input = ksmInputFrom(state, o);
      const status = input === null ? await ksmStatus(core) : await setKsm(core, input);
      process.stdout.write((o.json ? JSON.stringify(status, null, 2) : formatKsm(status)) + '\n');
    });
}
