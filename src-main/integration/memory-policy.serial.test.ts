// The host memory policy (automatic overcommit) with real QEMU demo guests, through the real CLI:
// three 256 MiB guests (minimum 160 MiB, shares 100/200/400) and one without a balloon. A target of
// 1 % of this host's memory (a real setting, which any host with running guests is above) makes the
// policy shrink the balloons in steps, the fewest shares fastest, never below the minimum; 99 %
// makes it give the memory back. Killed with SIGKILL, the policy is started again by the next
// status and re-adopts what it had squeezed; turned off while dead, the core gives the memory back.
// Runs alone (*.serial.test.ts): host memory use is host-wide, and the guests want the CPUs.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryPolicyStatus, PolicyDecision } from '../api/resources.js';
import { isProcessAlive } from '../core/fs/lock-file.js';
import { eventually, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const SQUEEZED = ['pa', 'pb', 'pc'];
let sb: Sandbox;
const pids = new Set<number>();

beforeAll(async () => {
  sb = makeSandbox();
  // A tick every half second and an exit one second after the last machine: the test's pace, not the defaults'.
  sb.env.VMDESK_POLICY_INTERVAL_MS = '500';
  sb.env.VMDESK_POLICY_IDLE_MS = '1000';
  const shares: Record<string, number> = { pa: 100, pb: 200, pc: 400 };
  await Promise.all(
    SQUEEZED.map(async (name) => {
      await ok(sb, ['create', name, '--demo', '--memory', '256']);
      await ok(sb, ['modify', name, '--memory-min', '160', '--memory-shares', String(shares[name])]);
    }),
  );
  await ok(sb, ['create', 'pd', '--demo', '--memory', '128']);
  await ok(sb, ['modify', 'pd', '--balloon', 'off']);
  await Promise.all(['pa', 'pb', 'pc', 'pd'].map((name) => ok(sb, ['start', name])));
  await Promise.all(['pa', 'pb', 'pc', 'pd'].map((name) => ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120'])));
});

// A failure says what the policy logged and what it sees of each machine (a policy that died at once
// shows every machine's size as unknown: its log says why).
beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    let log: string;
    try {
      log = policyLog().split('\n').slice(-40).join('\n');
    } catch (err) {
      log = `(no log: ${(err as Error).message})`;
    }
    const now = await vmdesk(sb, ['memory-policy', '--json']);
    console.error(`policy.log, last lines:\n${log}\nmemory-policy --json (exit ${now.code}):\n${now.stdout}${now.stderr}`);
  });
});

afterAll(async () => {
  for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  await sb.cleanup();
});

async function status(): Promise<MemoryPolicyStatus> {
  const s = JSON.parse(await ok(sb, ['memory-policy', '--json'])) as MemoryPolicyStatus;
  if (s.pid !== null) pids.add(s.pid);
  return s;
}

async function policy(args: string[]): Promise<MemoryPolicyStatus> {
  const s = JSON.parse(await ok(sb, ['memory-policy', ...args, '--json'])) as MemoryPolicyStatus;
  if (s.pid !== null) pids.add(s.pid);
  return s;
}

function actual(s: MemoryPolicyStatus, name: string): number | null {
  return s.machines.find((m) => m.name === name)?.actualMiB ?? null;
}

const allAt = (mib: number) => (s: MemoryPolicyStatus) => SQUEEZED.every((name) => actual(s, name) === mib);

function policyLog(): string {
  return fs.readFileSync(path.join(sb.runtime, 'policy', 'policy.log'), 'utf8');
}

describe('the host memory policy', () => {
  it('refuses bad settings and changes nothing', async () => {
    for (const args of [['maybe'], ['on', '--target', '0'], ['on', '--target', '100'], ['on', '--target', '50%']]) {
      const r = await vmdesk(sb, ['memory-policy', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/on or off|from 1 to 99/);
    }
    // The guests' balloon drivers send their first statistics a few seconds after boot.
    const s = await eventually(status, (x) => x.machines.filter((m) => m.managed).length === 3, 30_000);
    expect(s).toMatchObject({ enabled: false, targetPercent: 80, pid: null });
    // The policy is off: it sees the machines but leaves them alone.
    expect(s.machines.map((m) => [m.name, m.managed])).toEqual([
      ['pa', true],
      ['pb', true],
      ['pc', true],
      ['pd', false],
    ]);
    expect(s.machines.find((m) => m.name === 'pd')?.why).toMatch(/no balloon device/);
  });

  it('shrinks the balloons in steps above the target, the fewest shares first, never below the minimum', async () => {
    const on = await policy(['on', '--target', '1']);
    expect(on.enabled).toBe(true);
    expect(on.pid).not.toBeNull();
    expect(on.usedPercent).toBeGreaterThan(1);
    const s = await eventually(status, allAt(160), 60_000);
    for (const name of SQUEEZED) expect(actual(s, name), name).toBe(160);

    const shrinks = s.decisions.filter((d) => d.toMiB < d.fromMiB);
    const of = (name: string): PolicyDecision[] => shrinks.filter((d) => d.name === name);
    for (const name of SQUEEZED) {
      const steps = of(name);
      // Several steps, each lower than the last, the last one at the minimum, none below it.
      expect(steps.length, `${name}: ${JSON.stringify(steps)}`).toBeGreaterThanOrEqual(2);
      expect(steps[0]!.fromMiB).toBe(256);
      expect(steps.at(-1)!.toMiB).toBe(160);
      for (const [i, d] of steps.entries()) {
        expect(d.toMiB).toBeGreaterThanOrEqual(160);
        if (i > 0) expect(d.fromMiB).toBe(steps[i - 1]!.toMiB);
      }
    }
    // In proportion to the shares: the first step takes most from pa (100), least from pc (400),
    // and pa reaches its minimum first, pc last.
    const firstCut = (name: string): number => of(name)[0]!.fromMiB - of(name)[0]!.toMiB;
    expect(firstCut('pa')).toBeGreaterThan(firstCut('pb'));
    expect(firstCut('pb')).toBeGreaterThan(firstCut('pc'));
    const floorAt = (name: string): number => Date.parse(of(name).at(-1)!.at);
    expect(floorAt('pa')).toBeLessThan(floorAt('pb'));
    expect(floorAt('pb')).toBeLessThan(floorAt('pc'));
    // The machine without a balloon is left alone, and shown so.
    expect(s.decisions.some((d) => d.name === 'pd')).toBe(false);
    expect(s.machines.find((m) => m.name === 'pd')).toMatchObject({ managed: false, actualMiB: null });
    expect(policyLog()).toMatch(/pa: 256 -> \d+ MiB: host .* used, target 1 %/);
  });

  it('gives the memory back when the target is raised', async () => {
    const before = await status();
    await policy(['--target', '99']);
    const s = await eventually(status, allAt(256), 60_000);
    for (const name of SQUEEZED) expect(actual(s, name), name).toBe(256);
    expect(s.pid).toBe(before.pid);
    const grows = s.decisions.filter((d) => d.toMiB > d.fromMiB);
    for (const name of SQUEEZED) {
      const steps = grows.filter((d) => d.name === name);
      expect(steps.length, name).toBeGreaterThanOrEqual(2);
      expect(steps.at(-1)!.toMiB).toBe(256);
    }
    // The most shares get back first.
    const firstGift = (name: string): number => {
      const d = grows.find((x) => x.name === name)!;
      return d.toMiB - d.fromMiB;
    };
    expect(firstGift('pc')).toBeGreaterThan(firstGift('pa'));
  });

  it('is started again after SIGKILL by the next status, and re-adopts what it had squeezed', async () => {
    await policy(['--target', '1']);
    const squeezed = await eventually(status, allAt(160), 60_000);
    expect(allAt(160)(squeezed)).toBe(true);
    const killed = squeezed.pid!;
    process.kill(killed, 'SIGKILL');
    await eventually(
      () => Promise.resolve(isProcessAlive(killed)),
      (alive) => !alive,
      5_000,
    );
    const again = await status();
    expect(again.pid).not.toBeNull();
    expect(again.pid).not.toBe(killed);
    expect(isProcessAlive(again.pid!)).toBe(true);
    expect(policyLog()).toMatch(new RegExp(`started \\(pid ${again.pid}\\), after pid ${killed}`));
    expect(policyLog()).toMatch(/re-adopted what a previous policy took: pa at 160 of 256 MiB, pb at 160 of 256 MiB, pc at 160 of 256 MiB/);
    await policy(['--target', '99']);
    const back = await eventually(status, allAt(256), 60_000);
    expect(allAt(256)(back)).toBe(true);
    expect(back.pid).toBe(again.pid);
  });

  it('turned off while its process is dead, leaves nothing squeezed and no process', async () => {
    await policy(['--target', '1']);
    const squeezed = await eventually(status, allAt(160), 60_000);
    expect(allAt(160)(squeezed)).toBe(true);
    process.kill(squeezed.pid!, 'SIGKILL');
    await eventually(
      () => Promise.resolve(isProcessAlive(squeezed.pid!)),
      (alive) => !alive,
      5_000,
    );
    const off = await policy(['off']);
    expect(off).toMatchObject({ enabled: false, pid: null });
    for (const m of off.machines.filter((x) => SQUEEZED.includes(x.name))) expect(m.targetMiB, m.name).toBe(256);
    const s = await eventually(status, allAt(256), 30_000);
    expect(allAt(256)(s)).toBe(true);
    expect(s.pid).toBeNull();
    expect(policyLog()).toMatch(/pa: 160 -> 256 MiB: given back: the policy was turned off/);
    // Off stays off: a status does not start it.
    expect((await status()).pid).toBeNull();
  });

  it('ends by itself once no machine runs', async () => {
    const on = await policy(['on']);
    expect(on).toMatchObject({ enabled: true, targetPercent: 1 });
    const pid = on.pid!;
    expect(isProcessAlive(pid)).toBe(true);
    await Promise.all(['pa', 'pb', 'pc', 'pd'].map((name) => ok(sb, ['stop', name, '--force'])));
    const alive = await eventually(
      () => Promise.resolve(isProcessAlive(pid)),
      (a) => !a,
      15_000,
    );
    expect(alive).toBe(false);
    expect(policyLog()).toMatch(/host memory policy ends: no running machines/);
    await ok(sb, ['memory-policy', 'off']);
  });
});
