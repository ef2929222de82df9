import { describe, expect, it } from 'vitest';
import type { MachineMemory } from '../../api/resources.js';
import { parseVmRssMiB, processRssMiB, targetProblem } from './balloon.js';
import { processKsm } from './ksm.js';

function running(over: Partial<MachineMemory['balloon']> = {}): MachineMemory {
  return {
    uuid: '00000000-0000-4000-8000-000000000000',
    name: 'web',
    memoryMiB: 512,
    minimumMiB: 128,
    shares: 100,
    balloon: { device: true, driver: true, targetMiB: 512, actualMiB: 512, setBy: 'start', ...over },
    guest: null,
    hostRssMiB: 300,
    pageSharing: { enabled: true, mergingPages: 0 },
  };
}

describe('targetProblem', () => {
  it('accepts the minimum, the memory and anything between', () => {
    for (const target of [128, 192, 512]) expect(targetProblem(running(), target)).toBeNull();
  });

  it('refuses a target below the minimum with the way out', () => {
    const err = targetProblem(running(), 127);
    expect(err?.code).toBe('INVALID_INPUT');
    expect(err?.message).toBe(
      '127 MiB is below the minimum memory of web (128 MiB): lower the minimum first (vmdesk modify web --memory-min MiB)',
    );
  });

  it('refuses a target above the memory QEMU runs with', () => {
    const err = targetProblem(running(), 513);
    expect(err?.code).toBe('INVALID_INPUT');
    expect(err?.message).toContain('513 MiB is above the memory of web (512 MiB)');
  });

  it('refuses any target without a balloon device, saying how to get one', () => {
    const err = targetProblem(running({ device: false, driver: false, targetMiB: null, actualMiB: null, setBy: null }), 256);
    expect(err?.code).toBe('INVALID_STATE');
    expect(err?.message).toBe('web has no balloon device: switch it on (vmdesk modify web --balloon on) and restart the machine');
  });

  it('lets a target through to a guest whose driver does not answer (it applies once the driver loads)', () => {
    expect(targetProblem(running({ driver: false }), 256)).toBeNull();
  });
});

describe('QEMU process figures', () => {
  it('reads VmRSS in MiB from /proc/PID/status text', () => {
    expect(parseVmRssMiB('Name:\tqemu-system-x86\nVmHWM:\t  700000 kB\nVmRSS:\t  652288 kB\nRssAnon:\t 600000 kB\n')).toBe(637);
    expect(parseVmRssMiB('Name:\tkthreadd\nState:\tS (sleeping)\n')).toBeNull();
  });

  it("reads this process's own resident memory, and null for a process that is gone", async () => {
    const rss = await processRssMiB(process.pid);
    expect(rss).toBeGreaterThan(10);
    expect(Math.abs((rss ?? 0) - process.memoryUsage().rss / 1048576)).toBeLessThan(64);
    expect(await processRssMiB(2 ** 22 + 1)).toBeNull();
  });

  it('reads merging pages where the kernel has them, null for a process that is gone', async () => {
    const pages = (await processKsm(process.pid)).mergingPages;
    expect(pages === null || (Number.isInteger(pages) && pages >= 0)).toBe(true);
    expect((await processKsm(2 ** 22 + 1)).mergingPages).toBeNull();
  });
});
