// Scheduled snapshots with real demo guests and no window or server: only the CLI (each command a
// short-lived process) and the scheduler it starts. A schedule every 3 s (seconds allowed by the
// test-only VMDESK_TEST_SCHEDULE_SECONDS) takes live snapshots of a running guest and disk snapshots
// of a stopped one, prunes them by retention (live, through QEMU, on the running guest's chain), and
// leaves the user's own snapshot and one a linked clone rests on. The scheduler killed with SIGKILL
// (mid-run when it can be caught so) is re-adopted by the next machine start: the run it had begun
// is finished or closed, the slots missed meanwhile make one run, and no slot is run twice.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleStatus } from '../api/schedule.js';
import type { SnapshotNode } from '../api/snapshots.js';
import { Core } from '../core/core.js';
import { isProcessAlive } from '../core/fs/lock-file.js';
import { CoreService } from '../core/service.js';
import { eventually, guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const EVERY_3S = '*/3 * * * * *';
let sb: Sandbox;
const pids = new Set<number>();

interface RunLine {
  runId: string;
  slot: string;
  state: 'running' | 'done' | 'failed';
  message: string;
  machine: { name: string };
}

beforeAll(async () => {
  sb = makeSandbox();
  sb.env.VMDESK_TEST_SCHEDULE_SECONDS = '1';
  sb.env.VMDESK_SCHEDULER_IDLE_MS = '1000';
  await Promise.all(['hot', 'cold'].map((name) => ok(sb, ['create', name, '--demo', '--memory', '128'])));
  await ok(sb, ['start', 'hot']);
  await ok(sb, ['wait', 'hot', '--text', PROMPT, '--timeout', '240'], { timeoutMs: 250_000 });
}, 300_000);

afterAll(async () => {
  for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  await sb.cleanup();
});

async function schedule(name: string, args: string[] = []): Promise<ScheduleStatus> {
  const s = JSON.parse(await ok(sb, ['schedule', name, ...args, '--json'])) as ScheduleStatus;
  if (s.schedulerPid !== null) pids.add(s.schedulerPid);
  return s;
}

function flatten(nodes: SnapshotNode[]): SnapshotNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

async function snapshots(name: string): Promise<SnapshotNode[]> {
  const tree = JSON.parse(await ok(sb, ['snapshot', name, 'list', '--json'])) as { roots: SnapshotNode[] };
  return flatten(tree.roots);
}

const scheduledOf = async (name: string): Promise<SnapshotNode[]> => (await snapshots(name)).filter((s) => s.scheduled);

function runs(): RunLine[] {
  const file = path.join(sb.home, 'schedule-runs.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunLine);
}

/** Waits for `accept`, and fails the test with `what` when it does not come. */
async function until<T>(fn: () => T | Promise<T>, accept: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const v = await eventually(() => Promise.resolve(fn()), accept, timeoutMs);
  if (!accept(v)) throw new Error(`Timed out waiting for ${what}`);
  return v;
}

/** Waits until three more runs of the machine have been done from now. */
async function threeRunsOf(name: string): Promise<void> {
  const at = runs().length;
  await until(
    () => runs().slice(at),
    (l) => l.filter((r) => r.machine.name === name && r.state === 'done').length >= 3,
    45_000,
    `three runs of ${name}`,
  );
}

/** The final line of each run, by run id. */
function finalRuns(): Map<string, RunLine> {
  const last = new Map<string, RunLine>();
  for (const r of runs()) last.set(r.runId, r);
  return last;
}

describe('scheduled snapshots', () => {
  it('refuses bad schedules and changes nothing', async () => {
    const bad = [
      ['--every', '61 * * * *'],
      ['--every', '1h', '--at', '03:00'],
      ['--every', '1d', '--keep-last', '0'],
      ['--every', '1d', '--at', '25:00'],
      ['--every', '1w', '--at', 'xyz 03:00'],
      ['--every', '1d', '--at', 'mon 03:00'],
      ['--every', '0 3 * * *; touch /tmp/x'],
      ['--every', '1d', '--keep-daily', 'many'],
      ['--off', '--every', '1d'],
    ];
    for (const args of bad) {
      const r = await vmdesk(sb, ['schedule', 'hot', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().length).toBeGreaterThan(0);
    }
    expect((await vmdesk(sb, ['schedule', 'nobody', '--every', '1d'])).code).toBe(3);
    // Seconds are for tests only.
    const { VMDESK_TEST_SCHEDULE_SECONDS: _, ...plain } = sb.env;
    expect((await vmdesk(sb, ['schedule', 'hot', '--every', EVERY_3S], { env: plain })).code).toBe(2);
    expect(fs.existsSync(path.join(sb.home, 'machines', 'hot', 'schedule.json'))).toBe(false);
    const s = await schedule('hot');
    expect(s).toMatchObject({ schedule: null, nextRun: null, lastRun: null, schedulerPid: null });
  });

  it('takes live snapshots of a running guest and prunes them, sparing the user’s and a linked clone’s', async () => {
    await ok(sb, ['snapshot', 'hot', 'take', 'mine']);
    const set = await schedule('hot', ['--every', EVERY_3S, '--keep-last', '20']);
    expect(set.schedulerPid).not.toBeNull();
    expect(set.cron).toBe(EVERY_3S);
    const first = (
      await until(
        () => scheduledOf('hot'),
        (l) => l.length >= 1,
        30_000,
        'a first scheduled snapshot',
      )
    )[0];
    expect(first?.kind).toBe('live');
    expect(first?.name).toMatch(/^scheduled \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?$/);
    // A linked clone rests on the first scheduled snapshot: pruning must leave it.
    await ok(sb, ['clone', 'hot', 'kid', '--linked', '--snapshot', first?.name ?? '']);
    await schedule('hot', ['--keep-last', '2']);
    // Wait for three runs after the change (each prunes what fell out of the last two).
    await threeRunsOf('hot');
    // Read between runs: a run takes its snapshot, then prunes.
    const all = await until(
      () => snapshots('hot'),
      (l) => l.filter((s) => s.scheduled).length === 3,
      10_000,
      'pruning down to three scheduled snapshots',
    );
    const scheduled = all.filter((s) => s.scheduled);
    expect(all.some((s) => s.name === 'mine' && !s.scheduled)).toBe(true);
    expect(scheduled.map((s) => s.name)).toContain(first?.name);
    expect(scheduled).toHaveLength(3);
    expect(scheduled.every((s) => s.kind === 'live')).toBe(true);
    const messages = [...finalRuns().values()].map((r) => r.message).join('\n');
    expect(messages).toMatch(/pruned "scheduled /);
    expect(messages).toContain(`kept "${first?.name}": the linked clone "kid" rests on it`);
    // The scheduler's log says so too.
    const logs = fs.readdirSync(path.join(sb.runtime, 'scheduler')).map((d) => path.join(sb.runtime, 'scheduler', d, 'scheduler.log'));
    expect(fs.readFileSync(logs[0] ?? '', 'utf8')).toContain(`kept scheduled snapshot "${first?.name}"`);
    // The guest runs on, its disk chain whole: it still answers, and the clone boots from its snapshot.
    await guestSays(sb, 'hot', 'echo alive-$((20+22))', 'alive-42', 30);
    const st = await schedule('hot');
    expect(st.lastRun?.outcome).toBe('done');
    expect(Date.parse(st.nextRun ?? '')).toBeGreaterThan(Date.now() - 3_000);
  }, 120_000);

  it('shows each run in the task history with its outcome', async () => {
    const service = new CoreService(new Core({ home: sb.home, env: sb.env }));
    const tasks = (await service.listTasks()).filter((t) => t.title === 'Scheduled snapshot of hot');
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    expect(tasks.some((t) => t.state === 'done' && /Took "scheduled /.test(t.message))).toBe(true);
  });

  it('takes disk snapshots of a stopped machine and prunes them offline', async () => {
    await schedule('cold', ['--every', EVERY_3S, '--keep-last', '2']);
    await threeRunsOf('cold');
    const scheduled = await scheduledOf('cold');
    expect(scheduled.length).toBeGreaterThanOrEqual(2);
    expect(scheduled.length).toBeLessThanOrEqual(3);
    expect(scheduled.every((s) => s.kind === 'disk')).toBe(true);
    expect([...finalRuns().values()].some((r) => r.machine.name === 'cold' && /pruned "scheduled /.test(r.message))).toBe(true);
  }, 90_000);

  it('re-adopts a killed scheduler at the next start: no run lost, none run twice, missed slots run once', async () => {
    const before = await schedule('hot');
    const pid = before.schedulerPid ?? 0;
    expect(isProcessAlive(pid)).toBe(true);
    // Kill it mid-run when a run's first line is the last one written (it usually is within a few ms).
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && runs().at(-1)?.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    const last = runs().at(-1);
    const interrupted = last?.state === 'running' ? last.runId : null;
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await until(
      () => isProcessAlive(pid),
      (alive) => !alive,
      5_000,
      'the killed scheduler to be gone',
    );
    const afterKill = runs().length;
    // Three slots or more go by with no scheduler: nothing runs.
    await new Promise((r) => setTimeout(r, 8_000));
    expect(runs().length).toBe(afterKill);
    const restartAt = Date.now();
    await ok(sb, ['start', 'cold']);
    const after = await schedule('hot');
    expect(after.schedulerPid).not.toBeNull();
    expect(after.schedulerPid).not.toBe(pid);
    await until(
      () => runs().slice(afterKill),
      (l) => l.filter((r) => r.state !== 'running').length >= 4,
      45_000,
      'four runs of the re-adopted scheduler',
    );
    const finals = [...finalRuns().values()];
    // Every run ended (the interrupted one too), and no slot of a machine was run by two runs.
    const settled = finals.filter((r) => Date.parse(r.slot) < Date.now() - 5_000);
    expect(settled.filter((r) => r.state === 'running')).toEqual([]);
    for (const name of ['hot', 'cold']) {
      const slots = finals.filter((r) => r.machine.name === name && r.state === 'done').map((r) => r.slot);
      expect(new Set(slots).size, name).toBe(slots.length);
      // The slots missed while it was dead made one run: none of the runs begun after the restart is
      // for a slot between the kill and the restart but the newest one, the catch-up.
      const newRuns = runs()
        .slice(afterKill)
        .filter((r) => r.machine.name === name && r.state === 'running')
        .map((r) => Date.parse(r.slot));
      const missed = newRuns.filter((t) => t > killedAt && t < restartAt);
      expect(missed.length, `${name}: ${missed.map((t) => new Date(t).toISOString()).join(', ')}`).toBeLessThanOrEqual(1);
    }
    // Each scheduled snapshot is one slot's: names are unique per machine, and retention still holds.
    for (const name of ['hot', 'cold']) {
      const names = (await scheduledOf(name)).map((s) => s.name);
      expect(new Set(names).size).toBe(names.length);
    }
    // A live snapshot interrupted while the guest was paused for it does not leave the guest paused.
    const hot = JSON.parse(await ok(sb, ['show', 'hot', '--json'])) as { status: { state: string; reason?: string; logTail?: string } };
    const why = [hot.status.reason, hot.status.logTail].filter(Boolean).join('\n');
    expect(hot.status.state, `killed ${interrupted ? 'mid-run' : 'between runs'}: ${why}`).toBe('running');
    // The run it had begun ended: finished by the new scheduler, or closed as covered by the catch-up.
    if (interrupted) expect(finalRuns().get(interrupted)?.state).not.toBe('running');
    // cold now runs: its newest scheduled snapshot is live.
    const cold = await until(
      () => scheduledOf('cold'),
      (l) => l.some((s) => s.kind === 'live'),
      30_000,
      'a live scheduled snapshot of cold',
    );
    expect(cold.some((s) => s.kind === 'live')).toBe(true);
  }, 150_000);

  it('resumes a guest that a scheduler killed mid-snapshot left paused', async () => {
    const pid = (await schedule('hot')).schedulerPid ?? 0;
    // Killed between two runs, so that what follows is the test's doing alone.
    await until(
      () => runs().at(-1)?.state,
      (s) => s !== 'running',
      10_000,
      'a run to end',
    );
    process.kill(pid, 'SIGKILL');
    await until(
      () => isProcessAlive(pid),
      (alive) => !alive,
      5_000,
      'the killed scheduler to be gone',
    );
    const shown = async (): Promise<string> =>
      (JSON.parse(await ok(sb, ['show', 'hot', '--json'])) as { status: { state: string } }).status.state;
    // What a scheduler killed between pausing the guest for a live snapshot and resuming it leaves:
    // the run begun (written before anything is done), the guest paused.
    if ((await shown()) === 'running') await ok(sb, ['pause', 'hot']);
    expect(await shown()).toBe('paused');
    const file = path.join(sb.home, 'machines', 'hot', 'schedule-state.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const slot = new Date(Math.floor(Date.now() / 3_000) * 3_000).toISOString();
    const startedAt = new Date().toISOString();
    fs.writeFileSync(file, JSON.stringify({ ...state, pending: { slot, runId: 'cut-short', startedAt, wasRunning: true } }));
    await schedule('hot');
    await until(shown, (s) => s === 'running', 20_000, 'hot to run again');
    await until(
      () => finalRuns().get('cut-short')?.state,
      (s) => s === 'done' || s === 'failed',
      20_000,
      'the cut-short run to end',
    );
  }, 60_000);

  it('turned off everywhere, the scheduler ends; the snapshots stay', async () => {
    const pid = (await schedule('hot')).schedulerPid ?? 0;
    const scheduled = (await scheduledOf('hot')).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const before = scheduled.map((n) => n.id);
    // The oldest is the one the linked clone "kid" rests on: retention never prunes it.
    const clonedFrom = scheduled[0]?.id;
    await schedule('hot', ['--off']);
    const off = await schedule('cold', ['--off']);
    expect(off.schedule).toBeNull();
    expect(off.lastRun).not.toBeNull();
    await until(
      () => isProcessAlive(pid),
      (alive) => !alive,
      30_000,
      'the scheduler to end',
    );
    // A run under way when the schedule went off (or begun just before) ends as it would have: its
    // snapshot taken, what fell out of the last two pruned. From then on nothing is taken or pruned.
    const ended = (await scheduledOf('hot')).map((n) => n.id);
    const runsEnded = runs().length;
    expect(ended.length).toBeGreaterThan(0);
    expect(before.filter((id) => !ended.includes(id)).length).toBeLessThanOrEqual(2);
    expect(ended).toContain(clonedFrom);
    expect((await snapshots('hot')).some((s) => s.name === 'mine' && !s.scheduled)).toBe(true);
    await new Promise((r) => setTimeout(r, 7_000));
    expect((await scheduledOf('hot')).map((n) => n.id)).toEqual(ended);
    expect(runs().length).toBe(runsEnded);
    expect((await schedule('hot')).schedulerPid).toBeNull();
  }, 60_000);
});
