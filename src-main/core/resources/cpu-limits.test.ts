// What a start plans and what a settings change is refused for, on this host's own /proc and /sys;
// VMDESK_CGROUP_PARENT pointed at a plain folder stands for a host whose cgroups are unusable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VmdeskError } from '../../api/errors.js';
import { skipBecause } from '../../integration/skip.js';
import { machineConfigSchema, type MachineConfig } from '../../api/machine-config.js';
import { applyLiveChange, cgroupSupport, cpuPlanForStart, cpuSettingProblems } from './cpu-limits.js';

const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'not-a-cgroup-'));
const noCgroups = { VMDESK_CGROUP_PARENT: plain };
afterAll(() => fs.rmSync(plain, { recursive: true, force: true }));

function machine(resources: Partial<MachineConfig['resources']> = {}, cpus = 2): MachineConfig {
  return machineConfigSchema.parse({
    version: 1,
    uuid: '5f0c1c1e-0000-4000-8000-00000000c0de',
    name: 'web',
    cpus,
    memoryMiB: 256,
    resources,
    createdAt: new Date().toISOString(),
  });
}

async function refusal(p: Promise<unknown>): Promise<VmdeskError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmdeskError);
  return err as VmdeskError;
}

describe('the plan for a start', () => {
  it('puts every machine into its group where cgroups are usable', async (ctx) => {
    const host = await cgroupSupport({});
    if (host.root === null) skipBecause(ctx, `no usable cgroups here: ${host.reason ?? ''}`);
    const config = machine({ cpuCap: 150, cpuShares: 300, cpuPinning: [{ vcpu: 1, hostCpu: 0 }] });
    expect(await cpuPlanForStart(config, {})).toEqual({
      cgroups: [path.join(host.root ?? '', config.uuid)],
      version: host.version,
      capPercent: 150,
      shares: 300,
      pinning: [{ vcpu: 1, hostCpu: 0 }],
    });
  });

  it('without usable cgroups: nothing for a plain machine, pinning alone still, and a cap or shares refused with the reason', async () => {
    expect(await cpuPlanForStart(machine(), noCgroups)).toBeNull();
    expect(await cpuPlanForStart(machine({ cpuPinning: [{ vcpu: 0, hostCpu: 0 }] }), noCgroups)).toEqual({
      cgroups: [],
      version: null,
      capPercent: null,
      shares: 100,
      pinning: [{ vcpu: 0, hostCpu: 0 }],
    });
    for (const settings of [{ cpuCap: 50 }, { cpuShares: 200 }]) {
      const err = await refusal(cpuPlanForStart(machine(settings), noCgroups));
      expect(err.code).toBe('HOST_UNSUPPORTED');
      expect(err.message).toContain(`web has a CPU cap or CPU shares, which need cgroups, unavailable here: VMDESK_CGROUP_PARENT=${plain}`);
      expect(err.message).toContain('vmdesk modify web --cpu-cap off --cpu-shares 100');
    }
  });

  it('refuses a vCPU pinned to a host CPU this host lacks', async () => {
    const err = await refusal(cpuPlanForStart(machine({ cpuPinning: [{ vcpu: 0, hostCpu: 4000 }] }), {}));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/^vCPU 0 is pinned to host CPU 4000, which this host does not have \(its CPUs: \d/);
  });
});

describe('problems of a settings change', () => {
  it('names what the change asks for that the host cannot give, and only that', async () => {
    const before = machine({ cpuCap: 50 });
    expect(await cpuSettingProblems(before, machine({ cpuCap: 80 }), noCgroups)).toEqual([
      expect.stringMatching(/^A CPU cap or CPU shares need cgroups, which are unavailable here: VMDESK_CGROUP_PARENT=/),
    ]);
    // Taking a cap away, or a change of something else, is always possible.
    expect(await cpuSettingProblems(before, machine(), noCgroups)).toEqual([]);
    expect(await cpuSettingProblems(before, machine({ cpuCap: 50, memoryShares: 500 }), noCgroups)).toEqual([]);
    expect(await cpuSettingProblems(machine(), machine({ cpuPinning: [{ vcpu: 1, hostCpu: 4000 }] }), {})).toEqual([
      expect.stringMatching(/^vCPU 1 is pinned to host CPU 4000, which this host does not have/),
    ]);
  });
});

describe('a live change', () => {
  it('puts the old cap and shares back when pinning a thread then fails', async () => {
    const dir = fs.mkdtempSync(path.join(plain, 'group-'));
    const files = { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.shares': '1024' };
    for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), value);
    const change = {
      group: { version: 1 as const, dir, before: { capPercent: null, shares: 100 }, next: { capPercent: 25, shares: 300 } },
      // A thread that does not exist: taskset fails after the limits were written.
      threads: [{ tid: 999_999_999, before: [0], next: [0] }],
    };
    const err = await refusal(applyLiveChange(change, process.pid));
    expect(err.message).toMatch(/^Cannot pin thread 999999999 to host CPU 0: /);
    expect(fs.readFileSync(path.join(dir, 'cpu.cfs_quota_us'), 'utf8')).toBe('-1');
    expect(fs.readFileSync(path.join(dir, 'cpu.shares'), 'utf8')).toBe('1024');
  });
});
