import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig, MachineState } from '../../api/machine-config.js';
import type { RuntimeStatus } from '../../api/types.js';
import { StatsSampler, type SamplerServices } from './sampler.js';

/**
 * The sampler's state machine with a library and runtime of one machine whose "QEMU" is a real
 * process (sleep) without an agent: its /proc figures are real, its QMP figures absent.
 */
function services(config: MachineConfig, status: () => RuntimeStatus): SamplerServices & { connects: number } {
  const record = { uuid: config.uuid, dir: '/nonexistent', config };
  const s = {
    connects: 0,
    library: {
      entries: () => Promise.resolve([{ uuid: record.uuid, dir: record.dir }]),
      list: () => Promise.resolve([record]),
      find: (ref: string) =>
        ref === config.uuid || ref === config.name
          ? Promise.resolve(record)
          : Promise.reject(new VmdeskError('NOT_FOUND', `No machine named "${ref}"`)),
    },
    runtime: {
      status,
      isActive: (state: MachineState) => state === 'running' || state === 'paused' || state === 'starting' || state === 'stopping',
      connect: () => {
        s.connects++;
        return Promise.reject(new Error('no agent here'));
      },
    },
  };
  return s;
}

const config = {
  uuid: '11111111-2222-4333-8444-555555555555',
  name: 'g',
  memoryMiB: 512,
  nics: [{ id: 'net0', attachment: { type: 'nat', portForwards: [] } }],
} as unknown as MachineConfig;

let child: ChildProcess | null = null;
let state: RuntimeStatus = { state: 'stopped' };

beforeEach(() => {
  // The sampler's clock is faked; setTimeout stays real, for waits the kernel's CPU counters can see.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  state = { state: 'stopped' };
});
afterEach(() => {
  vi.useRealTimers();
  child?.kill('SIGKILL');
  child = null;
});

function startFakeQemu(): number {
  child = spawn('sleep', ['600'], { stdio: 'ignore' });
  if (!child.pid) throw new Error('sleep did not start');
  state = { state: 'running', qemuPid: child.pid };
  return child.pid;
}

describe('StatsSampler', () => {
  it('starts on the first request with one sample at once, samples every tick, and stops after the idle period', async () => {
    const sampler = new StatsSampler(
      services(config, () => state),
      { idleMs: 15_000 },
    );
    expect(sampler.active).toBe(false);
    const first = await sampler.host();
    expect(sampler.active).toBe(true);
    expect(first.samples).toHaveLength(1);
    expect(first.samples[0]?.cpuPercent).toBeNull();
    expect(first.samples[0]?.memTotalMiB).toBeGreaterThan(0);
    expect(first.memoryMiB).toBe(first.samples[0]?.memTotalMiB);
    expect(first.cpus).toBeGreaterThan(0);

    await vi.advanceTimersByTimeAsync(2_000);
    // /proc/stat counts in 10 ms ticks: the last tick's figures must be some real time after the previous.
    await new Promise((r) => setTimeout(r, 50));
    await vi.advanceTimersByTimeAsync(1_000);
    const later = await sampler.host();
    expect(later.samples.length).toBeGreaterThanOrEqual(3);
    expect(later.samples.at(-1)?.cpuPercent).toEqual(expect.any(Number));

    // Nobody asks: still sampling within the idle period, stopped and emptied after it.
    await vi.advanceTimersByTimeAsync(14_000);
    expect(sampler.active).toBe(true);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(sampler.active).toBe(false);
    expect(vi.getTimerCount()).toBe(0);

    const again = await sampler.host();
    expect(sampler.active).toBe(true);
    expect(again.samples).toHaveLength(1);
    sampler.stop();
    expect(sampler.active).toBe(false);
  });

  it('keeps only the window of history', async () => {
    const sampler = new StatsSampler(
      services(config, () => state),
      { windowMs: 10_000 },
    );
    await sampler.host();
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(5_000);
      await sampler.host();
    }
    const { samples } = await sampler.host();
    expect(samples.length).toBeGreaterThanOrEqual(9);
    expect(samples.length).toBeLessThanOrEqual(11);
    expect((samples.at(-1)?.t ?? 0) - (samples[0]?.t ?? 0)).toBeLessThanOrEqual(10_000);
    sampler.stop();
  });

  it('answers for a stopped machine with no samples and a note, and for an unknown one with NOT_FOUND', async () => {
    const sampler = new StatsSampler(services(config, () => state));
    const stats = await sampler.machine('g');
    expect(stats).toEqual({ uuid: config.uuid, samples: [], notes: ['g is not running (it is stopped): no new figures'] });
    await expect(sampler.machine('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    sampler.stop();
  });

  it('samples a running machine at once, gives CPU from the second sample, and keeps its samples when it stops', async () => {
    startFakeQemu();
    const svc = services(config, () => state);
    const sampler = new StatsSampler(svc, { reconnectMs: 5_000 });
    const first = await sampler.machine(config.uuid);
    expect(first.samples).toHaveLength(1);
    expect(first.samples[0]?.cpuPercent).toBeNull();
    expect(first.samples[0]?.rssMiB).toEqual(expect.any(Number));
    expect(first.samples[0]?.netRxBps).toBeNull();
    expect(first.notes.some((n) => n.includes('NAT'))).toBe(true);
    expect(first.notes.some((n) => n.includes('agent does not answer'))).toBe(true);

    await vi.advanceTimersByTimeAsync(3_000);
    const running = await sampler.machine('g');
    expect(running.samples.length).toBeGreaterThanOrEqual(3);
    // sleep uses no CPU.
    expect(running.samples.at(-1)?.cpuPercent).toBe(0);
    // A failed agent connection is retried after reconnectMs, not every second.
    expect(svc.connects).toBe(1);

    child?.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    state = { state: 'stopped' };
    await vi.advanceTimersByTimeAsync(2_000);
    const stopped = await sampler.machine('g');
    expect(stopped.samples.length).toBe(running.samples.length);
    expect(stopped.notes).toContain('g is not running (it is stopped): no new figures');
    const host = await sampler.host();
    expect(host.samples.at(-1)?.overcommitRatio).toBe(0);
    sampler.stop();
  });

  it('counts a running machine in the host overcommit ratio', async () => {
    startFakeQemu();
    const sampler = new StatsSampler(services(config, () => state));
    const host = await sampler.host();
    const sample = host.samples[0];
    expect(sample?.overcommitRatio).toBeCloseTo(512 / (sample?.memTotalMiB ?? 1), 3);
    sampler.stop();
  });
});
