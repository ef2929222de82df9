// Live figures of a real demo guest through `vmdesk stats`: CPU of QEMU's threads rising with a busy
// loop in the guest and falling when it ends, disk rates from query-blockstats, the host's figures.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSample, MachineSample } from '../api/resources.js';
import { CLI, guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

/** `vmdesk stats g --watch --json`, its samples gathered as they come. */
class Watch {
  readonly samples: MachineSample[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private buffer = '';
  stderr = '';

  constructor(name: string) {
    this.child = spawn(process.execPath, [CLI, 'stats', name, '--watch', '--json'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.samples.push(JSON.parse(this.buffer.slice(0, nl)) as MachineSample);
        this.buffer = this.buffer.slice(nl + 1);
      }
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Where the samples to come will start. */
  mark(): number {
    return this.samples.length;
  }

  /** The first sample since `from` (default: now) that `accept`s, or a failure naming what came instead. */
  async until(accept: (s: MachineSample) => boolean, timeoutMs: number, what: string, from = this.mark()): Promise<MachineSample> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.samples.slice(from).find(accept);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no sample with ${what} in ${timeoutMs} ms:\n${JSON.stringify(this.samples.slice(from))}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** How the command ended: on its own, or by Ctrl-C now. */
  stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    return this.exited;
  }

  /** Until the command ends on its own. */
  ended(): Promise<number | null> {
    return this.exited;
  }
}

let watch: Watch | null = null;

function average(samples: MachineSample[]): number {
  const values = samples.map((s) => s.cpuPercent).filter((v): v is number => v !== null);
  if (values.length === 0) throw new Error('no CPU figures to average');
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** utime + stime of a process, in clock ticks (1/100 s), read by the test itself. */
function qemuTicks(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

beforeAll(async () => {
  sb = makeSandbox();
  await ok(sb, ['create', 'g', '--demo', '--memory', '128']);
  await ok(sb, ['start', 'g']);
  await ok(sb, ['wait', 'g', '--text', PROMPT, '--timeout', '120']);
});
afterAll(async () => {
  await watch?.stop();
  await sb.cleanup();
});

describe('vmdesk stats', () => {
  it('gives one sample of an idle guest with rates, its RSS and its balloon', async () => {
    const sample = JSON.parse(await ok(sb, ['stats', 'g', '--json'])) as MachineSample;
    expect(sample.t).toBeGreaterThan(Date.now() - 10_000);
    // An idle demo guest under TCG costs 1–3 % of a CPU here; other tests' guests share the 2 cores.
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(sample.cpuPercent).toBeLessThan(50);
    expect(sample.rssMiB).toBeGreaterThan(20);
    expect(sample.balloonActualMiB).toBe(128);
    expect(sample.diskReadBps).toBeGreaterThanOrEqual(0);
    expect(sample.diskWriteIops).toBeGreaterThanOrEqual(0);
    // User-mode NAT: QEMU counts nothing.
    expect(sample.netRxBps).toBeNull();

    const table = await vmdesk(sb, ['stats', 'g']);
    expect(table.code).toBe(0);
    const [head, row, extra] = table.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^CPU %\s+RSS MiB\s+BALLOON MiB\s+GUEST FREE MiB\s+DISK R MiB\/s/);
    expect(row?.trim().split(/\s+/)).toHaveLength(10);
    expect(extra).toBeUndefined();
    expect(table.stderr).toMatch(/note: No network figures: QEMU does not count the traffic of NAT/);
  });

  it('shows the CPU of a busy loop in the guest as /proc counts it, and its fall when the loop ends', async () => {
    watch = new Watch('g');
    const w = watch;
    const { status } = JSON.parse(await ok(sb, ['show', 'g', '--json'])) as { status: { qemuPid: number } };
    await w.until((s) => s.cpuPercent !== null, 15_000, 'a CPU figure');
    const idleFrom = w.mark();
    await w.until(() => w.samples.length - idleFrom >= 3, 10_000, 'three samples');
    const idle = average(w.samples.slice(idleFrom));

    await guestSays(sb, 'g', 'while :; do :; done & echo busy-$((6*7))', 'busy-42', 30);
    // A vCPU spinning under TCG takes a whole host CPU when it can have one; other tests' guests
    // share the 2 cores, so the rise is asserted against the idle figure and /proc, not a fixed 100 %.
    await w.until((s) => (s.cpuPercent ?? 0) >= Math.min(80, idle + 20), 30_000, `CPU ≥ ${Math.min(80, idle + 20)} % (idle ${idle})`);
    const ticks0 = qemuTicks(status.qemuPid);
    const at0 = Date.now();
    const busyFrom = w.mark();
    await w.until(() => w.samples.length - busyFrom >= 5, 15_000, 'five samples');
    const procPercent = (qemuTicks(status.qemuPid) - ticks0) / ((Date.now() - at0) / 1000); // 100 ticks a second is 100 %
    const busy = average(w.samples.slice(busyFrom, busyFrom + 5));
    expect(busy).toBeGreaterThan(idle + 15);
    expect(Math.abs(busy - procPercent)).toBeLessThan(20);

    await guestSays(sb, 'g', 'kill %1; echo calm-$((6*7))', 'calm-42', 30);
    const calm = await w.until((s) => s.cpuPercent !== null && s.cpuPercent < (busy + idle) / 2, 30_000, `CPU < ${(busy + idle) / 2} %`);
    expect(calm.cpuPercent).toBeGreaterThanOrEqual(0);
  });

  it('shows disk writes and reads (query-blockstats) while the guest uses its disk', async () => {
    if (!watch) throw new Error('the watch of the previous test is missing');
    const beforeWrites = watch.mark();
    await guestSays(
      sb,
      'g',
      'for i in $(seq 8); do dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct; done 2>/dev/null; echo wrote-$((6*7))',
      'wrote-42',
      90,
    );
    await watch.until((s) => (s.diskWriteBps ?? 0) > 0, 5_000, 'disk writes', beforeWrites);
    const writing = watch.samples.slice(beforeWrites).filter((s) => (s.diskWriteBps ?? 0) > 0);
    // 1 MiB requests: bytes per second over requests per second is about 1 MiB.
    const best = writing.reduce((a, b) => ((b.diskWriteBps ?? 0) > (a.diskWriteBps ?? 0) ? b : a));
    expect(best.diskWriteIops).toBeGreaterThan(0);
    expect((best.diskWriteBps ?? 0) / (best.diskWriteIops ?? 1)).toBeGreaterThan(512 * 1024);

    const beforeReads = watch.mark();
    await guestSays(sb, 'g', 'dd if=/dev/vda of=/dev/null bs=1M count=256 iflag=direct 2>/dev/null; echo read-$((6*7))', 'read-42', 90);
    const read = await watch.until((s) => (s.diskReadBps ?? 0) > 0, 5_000, 'disk reads', beforeReads);
    expect(read.diskReadIops).toBeGreaterThan(0);
  });

  it('gives the host figures, with the running guest in the overcommit ratio', async () => {
    const host = JSON.parse(await ok(sb, ['stats', '--json'])) as HostSample;
    expect(host.memTotalMiB).toBeGreaterThan(0);
    expect(host.memUsedMiB).toBeGreaterThan(0);
    expect(host.memUsedMiB).toBeLessThanOrEqual(host.memTotalMiB);
    expect(host.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(host.cpuPercent).toBeLessThanOrEqual(100);
    expect(host.overcommitRatio).toBeGreaterThanOrEqual(128 / host.memTotalMiB - 0.001);
    expect(host.ksmSavedMiB === null || host.ksmSavedMiB >= 0).toBe(true);
    const table = await ok(sb, ['stats']);
    expect(table).toMatch(/^CPU %\s+MEM USED MiB\s+MEM TOTAL MiB\s+KSM SAVED MiB\s+OVERCOMMIT\n/);
  });

  it('ends a watch when the machine stops, and refuses a stopped or unknown machine', async () => {
    if (!watch) throw new Error('the watch of the previous test is missing');
    await ok(sb, ['stop', 'g', '--force']);
    expect(await watch.ended()).toBe(0);
    expect(watch.stderr).toMatch(/g is not running \(it is stopped\)/);
    watch = null;

    const stopped = await vmdesk(sb, ['stats', 'g', '--json']);
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toMatch(/vmdesk: g is not running \(it is stopped\)/);
    expect(stopped.stdout).toBe('');
    const unknown = await vmdesk(sb, ['stats', 'nope']);
    expect(unknown.stderr).toMatch(/No machine named "nope"/);
  });
});
