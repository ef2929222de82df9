/** `vmdesk memory-policy [on|off] [--target PCT]`: the host memory policy (automatic overcommit). */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import type { MemoryPolicyStatus } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { memoryPolicyStatus, setMemoryPolicy } from '../../core/resources/memory-policy.js';
import { readPolicySettings } from '../../core/resources/policy/policy-files.js';
import { table } from '../format.js';

function targetPercent(value: string): number {
  const n = /^\d{1,3}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 99)
    throw new VmdeskError('INVALID_INPUT', `--target is a percentage of the host's memory from 1 to 99, not "${value.slice(0, 40)}"`);
  return n;
}

const mib = (n: number | null): string => (n === null ? '-' : `${n} MiB`);

export function formatMemoryPolicy(s: MemoryPolicyStatus): string {
  const lines = [
    `Memory policy: ${s.enabled ? 'on' : 'off'}, target ${s.targetPercent} % of host memory` +
      (s.enabled ? (s.pid !== null ? ` (process ${s.pid})` : ' (idle: no running machines)') : ''),
    `Host: ${s.hostUsedMiB} of ${s.hostTotalMiB} MiB used (${s.usedPercent} %)`,
  ];
  if (s.machines.length === 0) lines.push('No running machines.');
  else {
    const rows = [['MACHINE', 'MEMORY', 'MINIMUM', 'SHARES', 'TARGET', 'ACTUAL', 'GUEST FREE', 'WHY']];
    for (const m of s.machines)
      rows.push([
        m.name,
        mib(m.memoryMiB),
        mib(m.minimumMiB),
        String(m.shares),
        mib(m.targetMiB),
        mib(m.actualMiB),
        mib(m.guestFreeMiB),
        m.managed ? m.why || '-' : `left alone: ${m.why}`,
      ]);
    lines.push('', table(rows));
  }
  if (s.decisions.length > 0) {
    lines.push('', 'Last decisions:');
    for (const d of s.decisions.slice(-10)) lines.push(`  ${d.at} ${d.name}: ${d.fromMiB} -> ${d.toMiB} MiB: ${d.why}`);
  }
  return lines.join('\n');
}

export function registerMemoryPolicyCommand(program: Command, core: Core): void {
  program
    .command('memory-policy')
    .argument('[on|off]', 'turn automatic overcommit on or off (none: show it)')
    .description('the host memory policy: shrinks balloons by shares when host memory use is above the target, gives back below it')
    .option('--target <percent>', 'the host memory use to stay under (1-99; default 80)', targetPercent)
    .option('--json', 'print the status as JSON')
    .action(async (onOff: string | undefined, o: { target?: number; json?: boolean }) => {
      if (onOff !== undefined && onOff !== 'on' && onOff !== 'off')
        throw new VmdeskError('INVALID_INPUT', `memory-policy takes on or off, not "${onOff.slice(0, 40)}"`);
      let status: MemoryPolicyStatus;
      if (onOff === undefined && o.target === undefined) status = await memoryPolicyStatus(core);
      else {
        const enabled = onOff === undefined ? (await readPolicySettings(core.library.home)).enabled : onOff === 'on';
        status = await setMemoryPolicy(core, { enabled, ...(o.target !== undefined ? { targetPercent: o.target } : {}) });
      }
      process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatMemoryPolicy(status)}\n`);
    });
}
