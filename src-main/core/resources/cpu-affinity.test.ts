import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VmdeskError } from '../../api/errors.js';
import {
  affinityPlan,
  formatCpuList,
  missingHostCpus,
  onlineCpus,
  parseCpuList,
  parseVcpuThreads,
  setThreadAffinity,
  threadAffinity,
} from './cpu-affinity.js';

describe('CPU lists', () => {
  it('reads and writes the kernel format', () => {
    expect(parseCpuList('0-1\n')).toEqual([0, 1]);
    expect(parseCpuList('0-2,5,7-8')).toEqual([0, 1, 2, 5, 7, 8]);
    expect(parseCpuList('')).toEqual([]);
    expect(formatCpuList([8, 0, 1, 2, 5, 7])).toBe('0-2,5,7-8');
    expect(formatCpuList([3])).toBe('3');
    for (const bad of ['a', '1-', '3-1', '1;2', '0-1 ; rm']) expect(() => parseCpuList(bad), bad).toThrow();
  });

  it('names each pin to a CPU the host lacks', () => {
    expect(missingHostCpus([{ vcpu: 0, hostCpu: 1 }], [0, 1])).toEqual([]);
    expect(missingHostCpus([{ vcpu: 1, hostCpu: 64 }], [0, 1])).toEqual([
      'vCPU 1 is pinned to host CPU 64, which this host does not have (its CPUs: 0-1)',
    ]);
  });
});

describe('vCPU threads', () => {
  it('reads query-cpus-fast', () => {
    const reply = [
      { 'cpu-index': 0, 'thread-id': 4100, 'qom-path': '/machine/unattached/device[0]', target: 'x86_64' },
      { 'cpu-index': 1, 'thread-id': 4101, 'qom-path': '/machine/unattached/device[1]', target: 'x86_64' },
    ];
    expect(parseVcpuThreads(reply)).toEqual([
      { vcpu: 0, threadId: 4100 },
      { vcpu: 1, threadId: 4101 },
    ]);
    expect(() => parseVcpuThreads({ error: 'x' })).toThrow(VmdeskError);
    expect(() => parseVcpuThreads([{ 'cpu-index': 0 }])).toThrow(/without its index or thread id/);
  });

  it('plans pinned threads onto their CPU and the others onto what QEMU started with', () => {
    const threads = [
      { vcpu: 0, threadId: 10 },
      { vcpu: 1, threadId: 11 },
    ];
    expect([...affinityPlan(threads, [{ vcpu: 1, hostCpu: 0 }], [0, 1])]).toEqual([
      [10, [0, 1]],
      [11, [0]],
    ]);
    // vCPU 2 comes with the next start (more vCPUs were asked for): pinned then.
    expect([...affinityPlan(threads, [{ vcpu: 2, hostCpu: 0 }], [0, 1])]).toEqual([
      [10, [0, 1]],
      [11, [0, 1]],
    ]);
  });

  it('refuses pins that disagree about one thread (single-threaded TCG)', () => {
    const shared = [
      { vcpu: 0, threadId: 10 },
      { vcpu: 1, threadId: 10 },
    ];
    expect([...affinityPlan(shared, [{ vcpu: 0, hostCpu: 1 }], [0, 1])]).toEqual([[10, [1]]]);
    expect(() =>
      affinityPlan(
        shared,
        [
          { vcpu: 0, hostCpu: 0 },
          { vcpu: 1, hostCpu: 1 },
        ],
        [0, 1],
      ),
    ).toThrow(/run on one QEMU thread/);
  });
});

describe('thread affinity on a real process', () => {
  it('pins a thread with taskset and reads it back from /proc', async () => {
    const online = await onlineCpus();
    expect(online.length).toBeGreaterThan(0);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    try {
      const last = online[online.length - 1] ?? 0;
      await setThreadAffinity(pid, [last]);
      expect(await threadAffinity(pid, pid)).toEqual([last]);
      await setThreadAffinity(pid, online);
      expect(await threadAffinity(pid, pid)).toEqual(online);
      const err = await setThreadAffinity(pid, [4000]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VmdeskError);
      expect((err as VmdeskError).message).toMatch(/^Cannot pin thread \d+ to host CPU 4000: /);
    } finally {
      child.kill('SIGKILL');
    }
    await expect(threadAffinity(999_999_999, 999_999_999)).rejects.toThrow(/is gone/);
  });
});
