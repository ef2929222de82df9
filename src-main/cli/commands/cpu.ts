/** `vmdesk cpu NAME`: a machine's CPU cap, shares and pinning, its cgroup, and where each vCPU thread may run. */
import type { Command } from 'commander';
import type { CgroupSupport, MachineCpu } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { cgroupSupport, machineCpu } from '../../core/resources/cpu-limits.js';
import { formatCpuList } from '../../core/resources/cpu-affinity.js';
import { formatNumber, t } from '../../i18n/i18n.js';
import { table } from '../format.js';

export function formatCpu(name: string, cpu: MachineCpu, cgroups: CgroupSupport, running: boolean): string {
  const none = t('commands.cpu.none');
  const rows: string[][] = [
    [t('commands.cpu.cap'), cpu.cap === null ? none : t('commands.cpu.capValue', { cap: formatNumber(cpu.cap) })],
    [t('commands.cpu.shares'), formatNumber(cpu.shares)],
    [
      t('commands.cpu.pinning'),
      cpu.pinning.length === 0 ? none : cpu.pinning.map((p) => t('commands.cpu.pin', { vcpu: p.vcpu, cpu: p.hostCpu })).join(', '),
    ],
    [
      t('commands.cpu.cgroups'),
      cgroups.version === null
        ? t('commands.cpu.unavailable', { reason: cgroups.reason ?? t('commands.cpu.noCgroup') })
        : t('commands.cpu.cgroupVersion', { version: cgroups.version, root: cgroups.root ?? '' }),
    ],
  ];
  if (running) {
    rows.push([t('commands.cpu.cgroup'), cpu.cgroup ?? t('commands.cpu.notInCgroup')]);
    for (const thread of cpu.threads)
      rows.push([
        `vCPU ${thread.vcpu}`,
        t('commands.cpu.thread', { id: thread.threadId, count: thread.hostCpus.length, cpus: formatCpuList(thread.hostCpus) }),
      ]);
  }
  return `${name}\n${table(rows.map(([k = '', v = '']) => [`  ${k}:`, v]))}`;
}

export function registerCpuCommand(program: Command, core: Core): void {
  program
    .command('cpu')
    .argument('<name>', t('cli.theMachine'))
    .description(t('commands.cpu.description'))
    .option('--json', t('commands.cpu.json'))
    .action(async (name: string, o: { json?: boolean }) => {
      const cpu = await machineCpu(core, name);
      if (o.json) {
        process.stdout.write(JSON.stringify(cpu, null, 2) + '\n');
        return;
      }
      const record = await core.library.find(cpu.uuid);
      const running = core.runtime.isRunning(cpu.uuid);
      process.stdout.write(formatCpu(record.config.name, cpu, await cgroupSupport(core.env), running) + '\n');
    });
}
