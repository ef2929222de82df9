import { describe, expect, it } from 'vitest';
import type { MachineCpu } from '../../api/resources.js';
import { formatCpu } from './cpu.js';

const cpu: MachineCpu = {
  uuid: '5f0c1c1e-0000-4000-8000-00000000c0de',
  cap: 150,
  shares: 300,
  pinning: [{ vcpu: 1, hostCpu: 0 }],
  threads: [
    { vcpu: 0, threadId: 4100, hostCpus: [0, 1, 2, 3] },
    { vcpu: 1, threadId: 4101, hostCpus: [0] },
  ],
  cgroup: '/sys/fs/cgroup/cpu/vmdesk/5f0c1c1e-0000-4000-8000-00000000c0de',
};

describe('vmdesk cpu', () => {
  it('shows a running machine: settings, cgroup, and where each vCPU thread may run', () => {
    const text = formatCpu('web', cpu, { version: 1, root: '/sys/fs/cgroup/cpu/vmdesk' }, true);
    expect(text.split('\n')).toEqual([
      'web',
      '  Cap:      150 % of one host CPU',
      '  Shares:   300',
      '  Pinning:  vCPU 1 → host CPU 0',
      '  Cgroups:  v1 under /sys/fs/cgroup/cpu/vmdesk',
      `  Cgroup:   ${cpu.cgroup}`,
      '  vCPU 0:   thread 4100 on host CPUs 0-3',
      '  vCPU 1:   thread 4101 on host CPU 0',
    ]);
  });

  it('shows a stopped machine by its settings, and why cgroups are unavailable', () => {
    const text = formatCpu(
      'web',
      { ...cpu, cap: null, pinning: [], threads: [], cgroup: null },
      { version: null, root: null, reason: 'no cpu controller' },
      false,
    );
    expect(text).toContain('Cap:      none');
    expect(text).toContain('Pinning:  none');
    expect(text).toContain('Cgroups:  unavailable: no cpu controller');
    expect(text).not.toContain('vCPU 0');
    expect(text).not.toContain('Cgroup:');
  });
});
