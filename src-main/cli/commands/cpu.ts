/** `vmdesk cpu NAME`: a machine's CPU cap, shares and pinning, its cgroup, and where each vCPU thread may run. */
import type { Command } from 'commander';
import type { CgroupSupport, MachineCpu } from '../../api/resources.js';
import type { Core } from '../../core/core.js';
import { cgroupSupport, machineCpu } from '../../core/resources/cpu-limits.js';
import { formatCpuList } from '../../core/resources/cpu-affinity.js';
import { table } from '../format.js';

export function formatCpu(name: string, cpu: MachineCpu, cgroups: CgroupSupport, running: boolean): string {
  const rows: string[][] = [
    ['Cap', cpu.cap === null ? 'none' : `${cpu.cap} % of one host CPU`],
    ['Shares', String(cpu.shares)],
    ['Pinning', cpu.pinning.length === 0 ? 'none' : cpu.pinning.map((p) => `vCPU ${p.vcpu} → host CPU ${p.hostCpu}`).join(', ')],
    [
      'Cgroups',
      cgroups.version === null ? `unavailable: ${cgroups.reason ?? 'no usable cgroup'}` : `v${cgroups.version} under ${cgroups.root}`,
    ],
  ];
  if (running) {
    rows.push(['Cgroup', cpu.cgroup ?? 'none (its QEMU is in none of VMDesk’s)']);
    for (const t of cpu.threads)
      rows.push([`vCPU ${t.vcpu}`, `thread ${t.threadId} on host CPU${t.hostCpus.length === 1 ? '' : 's'} ${formatCpuList(t.hostCpus)}`]);
  }
  return `${name}\n${table(rows.map(([k = '', v = '']) => [`  ${k}:`, v]))}`;
}

export function registerCpuCommand(program: Command, core: Core): void {
  program
    .command('cpu')
    .argument('<name>', 'the machine')
    .description("show a machine's CPU cap, shares, pinning and cgroup, and where its vCPU threads run (change them with vmdesk modify)")
    .option('--json', 'print it as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const cpu = await machineCpu(core, name);
      if (o.json) {
        process.stdout.write(JSON.stringify(cpu, null, 2) + '\n');
        return;
      }
      const record = await core.library.find(cpu.uuid);
      const running = core.runtime.isActive(core.runtime.status(cpu.uuid).state);
      process.stdout.write(formatCpu(record.config.name, cpu, await cgroupSupport(core.env), running) + '\n');
    });
}
