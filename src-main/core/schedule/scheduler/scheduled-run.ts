/**
 * One scheduled run of one machine: take a snapshot for the slot (live when the machine runs, of the
 * disks when it is stopped), marked as scheduled, then prune the scheduled snapshots the retention
 * rule no longer keeps. Recorded before and after, atomically (schedule-state.json): `pending` names
 * the slot before anything is done, so a scheduler killed midway is finished by the next one — which
 * finds the slot's snapshot if it was taken (never taken twice) or takes it (never lost) — and
 * `lastSlot` after, so a slot is never run again.
 */
import { randomUUID } from 'node:crypto';
import { VmdeskError, toErrorShape } from '../../../api/errors.js';
import type { ScheduleRunOutcome } from '../../../api/schedule.js';
import type { TakeSnapshotInput } from '../../../api/snapshots.js';
import { loadSnapshots, type SnapshotRecord } from '../../snapshots/store.js';
import type { TakeResult } from '../../snapshots/take.js';
import type { TaskContext } from '../../tasks/task-manager.js';
import { selectRetained } from '../retention.js';
import { appendRun, type RunLine } from '../runs-log.js';
import { readScheduleState, writeScheduleState, type StoredSchedule } from '../schedule-files.js';
import { describeSchedule } from '../slots.js';

/** What a run needs of the core (given by the scheduler's entry point). */
export interface RunServices {
  home: string;
  take(uuid: string, input: TakeSnapshotInput, scheduled: { slot: string }): Promise<TakeResult>;
  prune(
    uuid: string,
    ids: readonly string[],
    ctx: TaskContext,
  ): Promise<{ pruned: string[]; skipped: Array<{ name: string; why: string }> }>;
  log(line: string): void;
  /** The machine's run state, and why (a full disk pauses a guest too). */
  status(uuid: string): { state: string; reason?: string };
  resume(uuid: string): Promise<unknown>;
}

export interface ScheduledMachine {
  uuid: string;
  name: string;
  dir: string;
  schedule: StoredSchedule;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The snapshot's name: "scheduled" and the slot in local time (seconds only when the slot has some). */
export function snapshotNameFor(slot: Date): string {
  const day = `${slot.getFullYear()}-${pad(slot.getMonth() + 1)}-${pad(slot.getDate())}`;
  const time = `${pad(slot.getHours())}:${pad(slot.getMinutes())}${slot.getSeconds() ? `:${pad(slot.getSeconds())}` : ''}`;
  return `scheduled ${day} ${time}`;
}

const quietContext = (): TaskContext => ({ signal: new AbortController().signal, progress: () => undefined, detail: () => undefined });

async function recordLine(services: RunServices, machine: ScheduledMachine, line: Omit<RunLine, 'machine'>): Promise<void> {
  await appendRun(services.home, { ...line, machine: { uuid: machine.uuid, name: machine.name } }).catch((err: unknown) =>
    services.log(`${machine.name}: cannot write the runs log: ${(err as Error).message}`),
  );
}

/**
 * A run begun by a killed scheduler, on a machine that ran then and is paused now with no other
 * reason: the live snapshot it was taking had paused the guest, which nobody would resume.
 */
export async function resumeAfterInterrupted(services: RunServices, machine: ScheduledMachine): Promise<void> {
  const { pending } = readScheduleState(machine.dir);
  const now = services.status(machine.uuid);
  if (!pending?.wasRunning || now.state !== 'paused' || now.reason) return;
  await services.resume(machine.uuid);
  services.log(`${machine.name}: resumed: an interrupted scheduled snapshot had left it paused`);
}

/** A run begun by a scheduler that was killed before it recorded its end, and superseded by a newer slot: closed. */
export async function closeInterrupted(services: RunServices, machine: ScheduledMachine): Promise<void> {
  const state = readScheduleState(machine.dir);
  if (!state.pending) return;
  const taken = loadSnapshots(machine.dir).snapshots.find((s) => s.scheduled?.slot === state.pending?.slot);
  const message = taken
    ? `Took "${taken.name}" (${taken.kind}); the scheduler stopped before it recorded the run`
    : 'Interrupted: the scheduler stopped midway; the next slot covers it';
  await recordLine(services, machine, {
    runId: state.pending.runId,
    slot: state.pending.slot,
    state: taken ? 'done' : 'failed',
    startedAt: state.pending.startedAt,
    endedAt: new Date().toISOString(),
    message,
    ...(taken ? {} : { code: 'CANCELLED' as const }),
  });
  await writeScheduleState(machine.dir, { ...state, pending: null, lastSlot: maxSlot(state.lastSlot, state.pending.slot) });
}

function maxSlot(a: string | null, b: string): string {
  return a && Date.parse(a) > Date.parse(b) ? a : b;
}

function outcomeMessage(
  snapshot: ScheduleRunOutcome['snapshot'],
  again: boolean,
  pruned: string[],
  skipped: ScheduleRunOutcome['skipped'],
): string {
  const parts = [snapshot ? `${again ? 'Found' : 'Took'} "${snapshot.name}" (${snapshot.kind})` : 'No snapshot'];
  if (pruned.length > 0) parts.push(`pruned ${pruned.map((n) => `"${n}"`).join(', ')}`);
  for (const s of skipped) parts.push(`kept "${s.name}": ${s.why}`);
  return parts.join('; ');
}

/**
 * Runs the slot for the machine; returns 'retry' when the machine was busy (its lock held by another
 * VMDesk process): nothing recorded as done, the slot stays due.
 */
export async function runSlot(services: RunServices, machine: ScheduledMachine, slot: Date): Promise<ScheduleRunOutcome | 'retry'> {
  const slotIso = slot.toISOString();
  const before = readScheduleState(machine.dir);
  // The same slot begun by a killed scheduler: the same run, finished now.
  const resumed = before.pending?.slot === slotIso ? before.pending : null;
  const runId = resumed?.runId ?? randomUUID();
  const startedAt = resumed?.startedAt ?? new Date().toISOString();
  const wasRunning = resumed?.wasRunning ?? services.status(machine.uuid).state === 'running';
  await writeScheduleState(machine.dir, { ...before, pending: { slot: slotIso, runId, startedAt, wasRunning } });
  await recordLine(services, machine, {
    runId,
    slot: slotIso,
    state: 'running',
    startedAt,
    message: `Taking a snapshot (${describeSchedule(machine.schedule.settings)})`,
  });

  let snapshot: ScheduleRunOutcome['snapshot'] = null;
  let again = false;
  let pruned: string[] = [];
  let skipped: ScheduleRunOutcome['skipped'] = [];
  let failure: VmdeskError | null = null;
  let passphraseSkip: string | null = null;
  try {
    const existing: SnapshotRecord | undefined = loadSnapshots(machine.dir).snapshots.find((s) => s.scheduled?.slot === slotIso);
    if (existing) {
      again = true;
      snapshot = { id: existing.id, name: existing.name, kind: existing.kind };
    } else {
      const name = snapshotNameFor(slot);
      const taken = await services.take(
        machine.uuid,
        { name, description: `Taken by the schedule: ${describeSchedule(machine.schedule.settings)}` },
        { slot: slotIso },
      );
      snapshot = { id: taken.id, name: taken.name, kind: taken.kind };
    }
    const scheduled = loadSnapshots(machine.dir).snapshots.filter((s) => s.scheduled);
    const { remove } = selectRetained(scheduled, machine.schedule.settings.retention);
    if (remove.length > 0) ({ pruned, skipped } = await services.prune(machine.uuid, remove, quietContext()));
    for (const s of skipped) services.log(`${machine.name}: kept scheduled snapshot "${s.name}": ${s.why}`);
  } catch (err) {
    const shape = toErrorShape(err);
    if (shape.code === 'LOCKED' && !snapshot) {
      await writeScheduleState(machine.dir, { ...readScheduleState(machine.dir), pending: null });
      await recordLine(services, machine, {
        runId,
        slot: slotIso,
        state: 'failed',
        startedAt,
        endedAt: new Date().toISOString(),
        message: `${shape.message}: tried again in a minute`,
        code: 'LOCKED',
      });
      return 'retry';
    }
    // A stopped machine with encrypted disks: its overlays need the passphrase, which no schedule has.
    if ((shape.details as { needsPassphrase?: boolean } | undefined)?.needsPassphrase === true && !snapshot)
      passphraseSkip = `Skipped: ${machine.name} is stopped and its disks are encrypted, so a snapshot needs its passphrase, which the schedule does not have (a running machine's snapshots need none)`;
    else failure = new VmdeskError(shape.code, shape.message);
  }
  const outcome: ScheduleRunOutcome = {
    slot: slotIso,
    startedAt,
    endedAt: new Date().toISOString(),
    outcome: failure ? 'failed' : 'done',
    message: failure
      ? `${snapshot ? `${outcomeMessage(snapshot, again, pruned, skipped)}; then ` : ''}failed: ${failure.message}`
      : (passphraseSkip ?? outcomeMessage(snapshot, again, pruned, skipped)),
    snapshot,
    pruned,
    skipped,
  };
  await writeScheduleState(machine.dir, { version: 1, lastSlot: maxSlot(before.lastSlot, slotIso), pending: null, lastRun: outcome });
  await recordLine(services, machine, {
    runId,
    slot: slotIso,
    state: outcome.outcome,
    startedAt,
    endedAt: outcome.endedAt,
    message: outcome.message,
    ...(failure ? { code: failure.code } : {}),
  });
  services.log(`${machine.name}: ${outcome.message}`);
  return outcome;
}
