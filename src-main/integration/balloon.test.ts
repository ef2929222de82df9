// The balloon set by hand through the CLI, on a real 512 MiB demo guest: the guest's MemTotal and
// QEMU's resident memory fall when it inflates and the memory comes back when it deflates; bad
// targets and minimums are refused with nothing changed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../api/errors.js';
import type { MachineMemory } from '../api/resources.js';
import { eventually, guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let uuid = '';

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

async function memory(name: string): Promise<MachineMemory> {
  return JSON.parse(await ok(sb, ['memory', name, '--json'])) as MachineMemory;
}

/** QEMU's VmRSS read straight from /proc, not through VMDesk. */
function qemuRssMiB(): number {
  const pid = fs.readFileSync(path.join(sb.runtime, uuid, 'qemu.pid'), 'utf8').trim();
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 1024);
}

async function guestMemTotalMiB(): Promise<number> {
  const line = await guestSays(sb, 'g', 'grep MemTotal /proc/meminfo', /MemTotal:\s+\d+ kB/, 30);
  return Math.round(Number(/\d+/.exec(line)?.[0]) / 1024);
}

async function minimumInConfig(name: string): Promise<number | undefined> {
  const shown = JSON.parse(await ok(sb, ['show', name, '--json'])) as { config: { resources: { memoryMinMiB?: number } } };
  return shown.config.resources.memoryMinMiB;
}

describe('the memory balloon set by hand', () => {
  it('takes a target given before the guest driver answers: a warning, no wait, applied once the driver loads', async () => {
    await ok(sb, ['create', 'g', '--demo', '--memory', '512']);
    uuid = (JSON.parse(await ok(sb, ['show', 'g', '--json'])) as { uuid: string }).uuid;
    const stopped = await memory('g');
    expect(stopped.balloon).toEqual({ device: true, driver: false, targetMiB: null, actualMiB: null, setBy: null });
    expect(stopped.minimumMiB).toBe(256);
    await ok(sb, ['start', 'g']);
    const began = Date.now();
    const early = await vmdesk(sb, ['memory', 'g', '--target', '384', '--json']);
    expect(early.code, early.stderr).toBe(0);
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(early.stderr).toMatch(/balloon driver does not answer: the target is set/);
    expect((JSON.parse(early.stdout) as MachineMemory).balloon).toMatchObject({ device: true, driver: false, targetMiB: 384 });
    await ok(sb, ['wait', 'g', '--text', PROMPT, '--timeout', '90']);
    const applied = await eventually(
      () => memory('g'),
      (m) => m.balloon.actualMiB === 384 && m.guest !== null,
      30_000,
    );
    expect(applied.balloon).toMatchObject({ driver: true, targetMiB: 384, actualMiB: 384, setBy: 'user' });
    await ok(sb, ['memory', 'g', '--target', '512']);
  });

  it('inflates a guest that touched its memory to 192 MiB: MemTotal and QEMU RSS fall; deflated, the guest uses it again', async () => {
    // The floor is live: allowed while running, and no target to raise.
    expect(await ok(sb, ['modify', 'g', '--memory-min', '128'])).toMatch(/^Changed g/);
    expect((await memory('g')).minimumMiB).toBe(128);
    await guestSays(sb, 'g', 'mount -t tmpfs -o size=450m tmpfs /dev/shm && echo shm-$((1+1))', 'shm-2', 30);
    await guestSays(
      sb,
      'g',
      'dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 2>/dev/null; rm /dev/shm/fill; echo fill-$((2+2))',
      'fill-4',
      120,
    );
    const totalBefore = await guestMemTotalMiB();
    const rssBefore = qemuRssMiB();
    expect(rssBefore).toBeGreaterThan(400);

    const began = Date.now();
    const set = JSON.parse(await ok(sb, ['memory', 'g', '--target', '192', '--json'])) as MachineMemory;
    expect(set.balloon).toMatchObject({ device: true, driver: true, targetMiB: 192, setBy: 'user' });
    const rssAfter = await eventually(
      () => Promise.resolve(qemuRssMiB()),
      (rss) => rss <= rssBefore - 200,
      30_000,
    );
    const rssFellMs = Date.now() - began;
    expect(rssAfter).toBeLessThanOrEqual(rssBefore - 200);
    expect((await memory('g')).balloon.actualMiB).toBe(192);
    const totalAfter = await guestMemTotalMiB();
    expect(totalAfter).toBeLessThanOrEqual(200);
    expect(totalAfter).toBeLessThan(totalBefore - 250);

    await ok(sb, ['memory', 'g', '--target', '512']);
    const back = await eventually(
      () => memory('g'),
      (m) => m.balloon.actualMiB === 512,
      30_000,
    );
    expect(back.balloon).toMatchObject({ targetMiB: 512, actualMiB: 512, setBy: 'user' });
    const totalBack = await guestMemTotalMiB();
    expect(totalBack).toBe(totalBefore);
    await guestSays(
      sb,
      'g',
      'dd if=/dev/zero of=/dev/shm/fill bs=1M count=300 2>/dev/null && rm /dev/shm/fill && echo used-$((3+3))',
      'used-6',
      120,
    );
    console.log(
      `balloon: MemTotal ${totalBefore} -> ${totalAfter} -> ${totalBack} MiB; QEMU RSS ${rssBefore} -> ${rssAfter} MiB ` +
        `(fell ${rssBefore - rssAfter} MiB within ${rssFellMs} ms of the command)`,
    );
  });

  it('refuses a target below the minimum or above the memory, and a minimum above the memory, changing nothing', async () => {
    const before = await memory('g');
    const low = await vmdesk(sb, ['memory', 'g', '--target', '100']);
    expect(low.code).toBe(ERROR_CODES.INVALID_INPUT);
    expect(low.stderr).toContain(
      '100 MiB is below the minimum memory of g (128 MiB): lower the minimum first (vmdesk modify g --memory-min',
    );
    const high = await vmdesk(sb, ['memory', 'g', '--target', '600']);
    expect(high.code).toBe(ERROR_CODES.INVALID_INPUT);
    expect(high.stderr).toContain('600 MiB is above the memory of g (512 MiB)');
    const junk = await vmdesk(sb, ['memory', 'g', '--target', '12x']);
    expect(junk.code).toBe(ERROR_CODES.INVALID_INPUT);
    const min = await vmdesk(sb, ['modify', 'g', '--memory-min', '600']);
    expect(min.code).toBe(ERROR_CODES.INVALID_INPUT);
    expect(min.stderr).toContain("The minimum memory (600 MiB) is above the machine's memory (512 MiB)");
    expect(await minimumInConfig('g')).toBe(128);
    const after = await memory('g');
    expect(after.balloon).toEqual(before.balloon);
    expect(after.minimumMiB).toBe(128);
  });

  it("keeps the guest's statistics when the agent is replaced and when a saved state resumes (with all its memory)", async () => {
    const agentPid = Number(fs.readFileSync(path.join(sb.runtime, uuid, 'agent.pid'), 'utf8').trim());
    process.kill(agentPid, 'SIGKILL');
    const fresh = (after: number) => (m: MachineMemory) => m.guest !== null && Date.parse(m.guest.updatedAt) > after;
    const killedAt = Date.now();
    const adopted = await eventually(() => memory('g'), fresh(killedAt + 1_000), 15_000);
    expect(adopted.guest && Date.parse(adopted.guest.updatedAt)).toBeGreaterThan(killedAt + 1_000);
    expect(Number(fs.readFileSync(path.join(sb.runtime, uuid, 'agent.pid'), 'utf8').trim())).not.toBe(agentPid);

    await ok(sb, ['memory', 'g', '--target', '256']);
    await ok(sb, ['save-state', 'g'], { timeoutMs: 120_000 });
    await ok(sb, ['start', 'g']);
    const resumedAt = Date.now();
    const resumed = await eventually(
      () => memory('g'),
      (m) => fresh(resumedAt)(m) && m.balloon.actualMiB === 512,
      30_000,
    );
    expect(resumed.balloon).toMatchObject({ driver: true, targetMiB: 512, actualMiB: 512, setBy: 'start' });
    expect(await guestMemTotalMiB()).toBeGreaterThan(400);
  });

  it('raises a target below a new minimum to it, live', async () => {
    await ok(sb, ['memory', 'g', '--target', '192']);
    expect(await ok(sb, ['modify', 'g', '--memory-min', '256'])).toContain('balloon raised to the new minimum 256 MiB');
    const raised = await eventually(
      () => memory('g'),
      (m) => m.balloon.actualMiB === 256,
      30_000,
    );
    expect(raised).toMatchObject({ minimumMiB: 256, balloon: { targetMiB: 256, actualMiB: 256 } });
    expect(await minimumInConfig('g')).toBe(256);
    expect(await ok(sb, ['stop', 'g', '--force'])).toContain('g is stopped');
    const stopped = await vmdesk(sb, ['memory', 'g', '--target', '300']);
    expect(stopped.code).toBe(ERROR_CODES.INVALID_STATE);
    expect(stopped.stderr).toContain('g is not running');
  });

  it('says how to get a balloon on a machine started without one', async () => {
    await ok(sb, ['create', 'nb', '--demo', '--memory', '128']);
    await ok(sb, ['modify', 'nb', '--balloon', 'off']);
    await ok(sb, ['start', 'nb']);
    const shown = await memory('nb');
    expect(shown.balloon).toEqual({ device: false, driver: false, targetMiB: null, actualMiB: null, setBy: null });
    expect(shown.hostRssMiB).toBeGreaterThan(0);
    const r = await vmdesk(sb, ['memory', 'nb', '--target', '100']);
    expect(r.code).toBe(ERROR_CODES.INVALID_STATE);
    expect(r.stderr).toContain('nb has no balloon device: switch it on (vmdesk modify nb --balloon on) and restart the machine');
    expect(
      fs.existsSync(path.join(sb.runtime, (JSON.parse(await ok(sb, ['show', 'nb', '--json'])) as { uuid: string }).uuid, 'balloon.json')),
    ).toBe(false);
    expect(await ok(sb, ['stop', 'nb', '--force'])).toContain('nb is stopped');
  });
});
