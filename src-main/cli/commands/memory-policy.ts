/** `vmdesk memory-policy [on|off] [--target PCT]`: the host memory policy (automatic overcommit). */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MemoryPolicyStatus } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { memoryPolicyStatus, setMemoryPolicy } from '../../core/resources/memory-policy.js';
import { readPolicySettings } from '../../core/resources/policy/policy-files.js';
import { formatNumber, t } from '../../i18n/i18n.js';
import { table } from '../format.js';

function targetPercent(value: string): number {
  const n = /^\d{1,3}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 99)
    throw new VmdeskError('INVALID_INPUT', t('commands.memoryPolicy.targetInvalid', { value: value.slice(0, 40) }));
  return n;
}

const mib = (n: number | null): string => (n === null ? '-' : t('cli.format.mib', { n: formatNumber(n) }));

const POLICY_COLUMNS = ['machine', 'memory', 'minimum', 'shares', 'target', 'actual', 'guestFree', 'why'] as const;

export function formatMemoryPolicy(s: MemoryPolicyStatus): string {
  const policy = t('commands.memoryPolicy.policy', {
    state: t(s.enabled ? 'cli.format.on' : 'cli.format.off'),
    target: formatNumber(s.targetPercent),
  });
  const lines = [
    policy + (s.enabled ? ` ${s.pid !== null ? t('commands.memoryPolicy.process', { pid: s.pid }) : t('commands.memoryPolicy.idle')}` : ''),
    t('commands.memoryPolicy.host', {
      used: formatNumber(s.hostUsedMiB),
      total: formatNumber(s.hostTotalMiB),
      percent: formatNumber(s.usedPercent),
    }),
  ];
  if (s.machines.length === 0) lines.push(t('commands.memoryPolicy.noMachines'));
  else {
    const rows = [POLICY_COLUMNS.map((column) => t(`commands.memoryPolicy.header.${column}`))];
    for (const m of s.machines)
      rows.push([
        m.name,
        mib(m.memoryMiB),
        mib(m.minimumMiB),
        formatNumber(m.shares),
        mib(m.targetMiB),
        mib(m.actualMiB),
        mib(m.guestFreeMiB),
        m.managed ? m.why || '-' : t('commands.memoryPolicy.leftAlone', { why: m.why }),
      ]);
    lines.push('', table(rows));
  }
  if (s.decisions.length > 0) {
    lines.push('', t('commands.memoryPolicy.decisions'));
    for (const d of s.decisions.slice(-10))
      lines.push(`  ${d.at} ${d.name}: ${formatNumber(d.fromMiB)} -> ${formatNumber(d.toMiB)} MiB: ${d.why}`);
  }
  return lines.join('\n');
}

export function registerMemoryPolicyCommand(program: Command, core: Core): void {
  program
    .command('memory-policy')
    .argument('[on|off]', t('commands.memoryPolicy.onOff'))
    .description(t('commands.memoryPolicy.description'))
    .option('--target <percent>', t('commands.memoryPolicy.target'), targetPercent)
    .option('--json', t('commands.memoryPolicy.json'))
    .action(async (onOff: string | undefined, o: { target?: number; json?: boolean }) => {
      if (onOff !== undefined && onOff !== 'on' && onOff !== 'off')
        throw new VmdeskError('INVALID_INPUT', t('commands.memoryPolicy.onOrOff', { value: onOff.slice(0, 40) }));
      let status: MemoryPolicyStatus;
      if (onOff === undefined && o.target === undefined) status = await memoryPolicyStatus(core);
      else {
        const enabled = onOff === undefined ? (await readPolicySettings(core.library.home)).enabled : onOff === 'on';
        status = await setMemoryPolicy(core, { enabled, ...(o.target !== undefined ? { targetPercent: o.target } : {}) });
      }
      process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatMemoryPolicy(status)}\n`);
    });
}
