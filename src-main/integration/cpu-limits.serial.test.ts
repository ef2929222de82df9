// CPU caps, shares and pinning on real demo guests running a busy loop, measured from /proc (not
// through VMDesk): a cap of 25 % holds over 10 s, a cap raised live takes effect within a second,
// two guests pinned to one host CPU with shares 1:3 split it about 1:3, and bad settings are refused
// with nothing changed. The test's machines get a cgroup parent of their own (VMDESK_CGROUP_PARENT)
// with a high weight, so that other work on this host cannot starve what is measured: a cap is a
// ceiling, and a guest held below it by others would say nothing about it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineCpu, MachineMemory } from '../api/resources.js';
import { cgroupSupportOfHost } from '../core/resources/cgroup-detect.js';
import { guestSays, makeSandbox, ok, skipBecause, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const TICKS_PER_S = 100; // USER_HZ, the unit of /proc/PID/stat's times
let sb: Sandbox;
let parent: string | null = null;
let why = '';
const uuids = new Map<string, string>();

beforeAll(async () => {
  sb = makeSandbox();
  const host = await cgroupSupportOfHost({});
  if (host.version === null || host.root === null) {
    why = `this host has no usable cgroups: ${host.reason ?? ''}`;
    return;
  }
  parent = path.join(path.dirname(host.root), `vmdesk-it-${process.pid}`);
  fs.mkdirSync(parent);
  if (host.version === 1) fs.writeFileSync(path.join(parent, 'cpu.shares'), String(16 * 1024));
  else fs.writeFileSync(path.join(parent, 'cpu.weight'), '1600');
  sb.env.VMDESK_CGROUP_PARENT = parent;
});

afterAll(async () => {
  await sb.cleanup();
  if (parent === null) return;
  // The agents remove their machines' groups once QEMU is gone; the parent is the test's own.
  for (let i = 0; i < 40 && fs.existsSync(parent); i++) {
    try {
      for (const name of fs.readdirSync(parent)) if (/^[0-9a-f-]{36}$/.test(name)) fs.rmdirSync(path.join(parent, name));
      fs.rmdirSync(parent);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

function qemuPid(name: string): number {
  return Number(fs.readFileSync(path.join(sb.runtime, uuids.get(name) ?? '', 'qemu.pid'), 'utf8').trim());
}

/** utime + stime, in ticks, of a process or one of its threads (/proc/PID/stat, fields 14 and 15). */
function cpuTicks(pid: number, tid = pid): number {
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
const processTicks = (pid: number): number => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};

/** Percent of one host CPU that `pid` used over the next `seconds`. */
async function usage(pid: number, seconds: number): Promise<number> {
  const t0 = performance.now();
  const a = processTicks(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = processTicks(pid);
  return ((b - a) / TICKS_PER_S / ((performance.now() - t0) / 1000)) * 100;
}

async function cpuOf(name: string): Promise<MachineCpu> {
  return JSON.parse(await ok(sb, ['cpu', name, '--json'])) as MachineCpu;
}

async function boot(name: string): Promise<void> {
  await ok(sb, ['start', name]);
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
}

async function busy(name: string): Promise<void> {
  await guestSays(sb, name, 'while :; do :; done & echo busy-$((20+22))', 'busy-42', 30);
}

async function create(name: string, ...flags: string[]): Promise<void> {
  await ok(sb, ['create', name, '--demo', '--memory', '128']);
  uuids.set(name, (JSON.parse(await ok(sb, ['show', name, '--json'])) as { uuid: string }).uuid);
  if (flags.length > 0) await ok(sb, ['modify', name, ...flags]);
}

const configFile = (name: string): string => path.join(sb.home, 'machines', name, 'machine.json');
const groupFile = (name: string, file: string): string => path.join(parent ?? '', uuids.get(name) ?? '', file);

describe('CPU caps, shares and pinning', () => {
  it('holds a busy guest capped at 25 % to 25 ± 5 % of a core over 10 s', async (ctx) => {
    if (parent === null) skipBecause(ctx, why);
    // The guests of the shares test boot now too (idle until then): boots are the slow part under TCG.
    await create('capped', '--cpu-cap', '25');
    await create('light', '--pin', '0:1');
    await create('heavy', '--pin', '0:1', '--cpu-shares', '300');
    await Promise.all(['capped', 'light', 'heavy'].map(boot));
    await busy('capped');
    const cpu = await cpuOf('capped');
    expect(cpu.cgroup).toBe(path.join(parent, uuids.get('capped') ?? ''));
    expect(fs.readFileSync(groupFile('capped', 'cgroup.procs'), 'utf8').split('\n')).toContain(String(qemuPid('capped')));
    expect(fs.readFileSync(groupFile('capped', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('25000');
    await new Promise((r) => setTimeout(r, 1000));
    const used = await usage(qemuPid('capped'), 10);
    console.log(`capped at 25 %: ${used.toFixed(1)} % of a core over 10 s`);
    expect(used).toBeGreaterThanOrEqual(20);
    expect(used).toBeLessThanOrEqual(30);
  });

  it('takes a cap raised live to 50 % within a second', async (ctx) => {
    if (parent === null) skipBecause(ctx, why);
    const pid = qemuPid('capped');
    const quota = groupFile('capped', 'cpu.cfs_quota_us');
    const began = performance.now();
    const modify = ok(sb, ['modify', 'capped', '--cpu-cap', '50']);
    // The second that counts starts when the new quota is in the kernel, not when a CLI process is up.
    while (fs.readFileSync(quota, 'utf8').trim() !== '50000' && performance.now() - began < 10_000)
      await new Promise((r) => setTimeout(r, 5));
    const appliedAfterMs = performance.now() - began;
    const firstSecond = await usage(pid, 1);
    expect(await modify).toMatch(/now: CPU cap 50 %/);
    const after = await usage(pid, 4);
    console.log(
      `cap raised to 50 %: in the kernel ${appliedAfterMs.toFixed(0)} ms after \`vmdesk modify\` was run; ` +
        `then ${firstSecond.toFixed(1)} % in the first second, ${after.toFixed(1)} % over the next 4 s`,
    );
    expect(fs.readFileSync(quota, 'utf8').trim()).toBe('50000');
    expect(firstSecond).toBeGreaterThan(40);
    expect(after).toBeGreaterThanOrEqual(45);
    expect(after).toBeLessThanOrEqual(55);
  });

  it('refuses a cap of 0 or above 100 × vCPUs, a host CPU it lacks and cgroups it cannot use, changing nothing', async (ctx) => {
    if (parent === null) skipBecause(ctx, why);
    const config = fs.readFileSync(configFile('capped'), 'utf8');
    const refusals: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--cpu-cap', '0'], sb.env, /The CPU cap must be at least 1 %/],
      [['--cpu-cap', '101'], sb.env, /A CPU cap of 101 % is more than 1 vCPU can use \(at most 100 %\)/],
      [['--pin', '0:64'], sb.env, /vCPU 0 is pinned to host CPU 64, which this host does not have \(its CPUs: 0-\d+\)/],
      [
        ['--cpu-cap', '30', '--pin', '0:0'],
        { ...sb.env, VMDESK_CGROUP_PARENT: sb.home },
        new RegExp(`cgroups, which are unavailable here: VMDESK_CGROUP_PARENT=${sb.home} is not under a cgroup mount`),
      ],
    ];
    for (const [flags, env, message] of refusals) {
      const r = await vmdesk(sb, ['modify', 'capped', ...flags], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(fs.readFileSync(configFile('capped'), 'utf8')).toBe(config);
      expect(fs.readFileSync(groupFile('capped', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
      expect((await cpuOf('capped')).threads.map((t) => t.hostCpus.length > 1)).toEqual([true]);
    }
    // Stopped, its group is gone; a start where cgroups are unusable is refused and says why.
    await ok(sb, ['stop', 'capped', '--force']);
    expect(fs.existsSync(groupFile('capped', ''))).toBe(false);
    const start = await vmdesk(sb, ['start', 'capped'], { env: { ...sb.env, VMDESK_CGROUP_PARENT: sb.home } });
    expect(start.code, start.stderr).toBe(7);
    expect(start.stderr).toMatch(/capped has a CPU cap or CPU shares, which need cgroups, unavailable here: VMDESK_CGROUP_PARENT=/);
    expect(JSON.parse(await ok(sb, ['show', 'capped', '--json'])).status.state).toBe('stopped');
  });

  it('splits one host CPU about 1:3 between two busy guests pinned to it with shares 100 and 300', async (ctx) => {
    if (parent === null) skipBecause(ctx, why);
    await Promise.all([busy('light'), busy('heavy')]);
    const [light, heavy] = [await cpuOf('light'), await cpuOf('heavy')];
    for (const cpu of [light, heavy]) expect(cpu.threads.map((t) => t.hostCpus)).toEqual([[1]]);
    expect(fs.readFileSync(groupFile('heavy', 'cpu.shares'), 'utf8').trim()).toBe('3072');
    const threads = [light, heavy].map((cpu, i) => ({ pid: qemuPid(i === 0 ? 'light' : 'heavy'), tid: cpu.threads[0]?.threadId ?? 0 }));
    const before = threads.map((t) => cpuTicks(t.pid, t.tid));
    await new Promise((r) => setTimeout(r, 10_000));
    const used = threads.map((t, i) => cpuTicks(t.pid, t.tid) - (before[i] ?? 0));
    const [l = 0, h = 0] = used;
    const share = l / (l + h);
    console.log(`pinned to CPU 1, shares 100:300: vCPU threads used ${l} and ${h} ticks over 10 s (light's part ${share.toFixed(3)})`);
    expect(l + h).toBeGreaterThan(5 * TICKS_PER_S);
    expect(share).toBeGreaterThanOrEqual(0.15);
    expect(share).toBeLessThanOrEqual(0.35);
    // Two busy guests with the test's high weight would leave little of the host to the CLI runs that follow.
    await ok(sb, ['stop', 'heavy', '--force']);
    expect(fs.existsSync(groupFile('heavy', ''))).toBe(false);
  });

  it('unpins live, and takes a cap off live', async (ctx) => {
    if (parent === null) skipBecause(ctx, why);
    expect(await ok(sb, ['modify', 'light', '--cpu-cap', '30'])).toMatch(/now: CPU cap 30 %/);
    expect(fs.readFileSync(groupFile('light', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('30000');
    expect(await ok(sb, ['modify', 'light', '--cpu-cap', 'off'])).toMatch(/now: no CPU cap/);
    expect(fs.readFileSync(groupFile('light', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('-1');
    expect((await cpuOf('light')).cap).toBeNull();
    expect(await ok(sb, ['modify', 'light', '--pin', 'off'])).toMatch(/now: vCPUs unpinned/);
    const hostCpus = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const threads = (await cpuOf('light')).threads;
    expect(threads).toHaveLength(1);
    expect(threads[0]?.hostCpus.length).toBeGreaterThan(1);
    expect(await ok(sb, ['cpu', 'light'])).toMatch(new RegExp(`vCPU 0:\\s+thread \\d+ on host CPUs ${hostCpus}`));
    await ok(sb, ['stop', 'light', '--force']);
    expect(fs.existsSync(groupFile('light', ''))).toBe(false);
  });

  it('a live snapshot restored in place gets its cap, its pinning and all its memory again, as a start gives them', async (ctx) => {
    if (parent === null) skipBecause(ctx, why);
    await create('restored', '--cpu-cap', '40', '--pin', '0:1');
    await boot('restored');
    await ok(sb, ['memory', 'restored', '--target', '96']);
    await ok(sb, ['snapshot', 'restored', 'take', 'ballooned'], { timeoutMs: 120_000 });
    const before = qemuPid('restored');
    await ok(sb, ['snapshot', 'restored', 'restore', 'ballooned'], { timeoutMs: 120_000 });
    const pid = qemuPid('restored');
    expect(pid).not.toBe(before);
    expect(fs.readFileSync(groupFile('restored', 'cgroup.procs'), 'utf8').split('\n')).toEqual([String(pid), '']);
    expect(fs.readFileSync(groupFile('restored', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('40000');
    const threads = (await cpuOf('restored')).threads;
    expect(threads.map((t) => t.hostCpus)).toEqual([[1]]);
    const memory = JSON.parse(await ok(sb, ['memory', 'restored', '--json'])) as MachineMemory;
    expect(memory.balloon).toMatchObject({ targetMiB: 128, setBy: 'start' });
    await ok(sb, ['stop', 'restored', '--force']);
    expect(fs.existsSync(groupFile('restored', ''))).toBe(false);
  });
});
