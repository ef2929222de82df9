/**
 * Live migration in the renderer, the pure part: a task's `detail` and `result` recognised as a
 * migration's, the pre-copy rounds as rows (what each round sent, what was left, how fast the guest
 * dirtied memory, the stop-and-copy it would take) and the end's figures. A running machine migrates
 * live; a stopped one offline (its folder copied). No schema here: the main window's task panel and
 * commands use it from the first load, which zod stays out of (the dialog's form is ./migration.ts).
 */
import type { MigrationDetail, MigrationOutcome, MigrationRound } from '../../src-main/api/migration';
import type { TaskInfo } from '../../src-main/api/types';
import { wordsOf, type MessageKey } from '../i18n';
import { fixed } from '../i18n/format';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** QEMU counts dirty memory in target pages: 4 KiB on x86. */
export const PAGE_BYTES = 4096;
/** QEMU's downtime-limit when none is set. */
export const DEFAULT_MAX_DOWNTIME_MS = 300;

export const PHASES = ['preparing', 'disks', 'ram', 'switchover', 'done'] as const;
export type MigrationPhase = (typeof PHASES)[number];
/** An offline migration copies the stopped machine's folder: no RAM, no switchover. */
export const OFFLINE_PHASES: readonly MigrationPhase[] = ['preparing', 'disks', 'done'];
const PHASE_KEYS: Record<MigrationPhase, MessageKey> = {
  preparing: 'migration.phase.preparing',
  disks: 'migration.phase.disks',
  ram: 'migration.phase.ram',
  switchover: 'migration.phase.switchover',
  done: 'migration.phase.done',
};
export const PHASE_LABELS = wordsOf<MigrationPhase>(PHASE_KEYS);
export const OFFLINE_PHASE_LABELS = wordsOf<MigrationPhase>({ ...PHASE_KEYS, disks: 'migration.phase.copyFiles' });

export type MigrationMode = 'live' | 'offline';

/** How a machine in this state migrates: live while it runs, offline once stopped; null: neither now. */
export function migrationMode(state: string | undefined): MigrationMode | null {
  if (state === 'running' || state === 'paused') return 'live';
  if (state === 'stopped') return 'offline';
  return null;
}

/**
 * Whether a migration task is an offline one: as its options say (this window started it), as its
 * detail says (a core that tells), or — ended — from its outcome (no RAM, no rounds, no downtime).
 */
export function isOfflineMigration(
  options: { offline?: boolean } | null | undefined,
  detail: MigrationDetail | null,
  outcome: MigrationOutcome | null,
): boolean {
  if (options) return options.offline === true;
  const told = (detail as { offline?: unknown } | null)?.offline;
  if (typeof told === 'boolean') return told;
  return !!outcome && outcome.rounds.length === 0 && outcome.ramBytes === 0 && outcome.downtimeMs === null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isRound(v: unknown): v is MigrationRound {
  return isObject(v) && isNumber(v.round) && isNumber(v.ramTransferredBytes) && isNumber(v.ramRemainingBytes) && isNumber(v.dirtyPagesRate);
}

/** The task's detail, when it is a live migration's (anything else: null). */
export function migrationDetail(task: Pick<TaskInfo, 'detail'> | null | undefined): MigrationDetail | null {
  const d = task?.detail;
  if (!isObject(d) || !(PHASES as readonly unknown[]).includes(d.phase)) return null;
  if (typeof d.machine !== 'string' || typeof d.to !== 'string' || !Array.isArray(d.rounds) || !d.rounds.every(isRound)) return null;
  if (!isObject(d.disk) || !isNumber(d.disk.doneBytes) || !isNumber(d.disk.totalBytes)) return null;
  return d as unknown as MigrationDetail;
}

/** A finished migration's figures (the task's result once done), or null. */
export function migrationOutcome(task: Pick<TaskInfo, 'state' | 'result'> | null | undefined): MigrationOutcome | null {
  const r = task?.state === 'done' ? task.result : undefined;
  if (!isObject(r) || !isNumber(r.totalMs) || !Array.isArray(r.rounds) || !isNumber(r.ramBytes) || !isNumber(r.diskBytes)) return null;
  return r as unknown as MigrationOutcome;
}

/** What the end reported beside success (an outcome may carry `warnings`). */
export function outcomeWarnings(o: MigrationOutcome | null): string[] {
  const w = (o as { warnings?: unknown } | null)?.warnings;
  return Array.isArray(w) ? w.filter((x): x is string => typeof x === 'string') : [];
}

/** One row of the pre-copy table and one point of each line of its chart. */
export interface RoundRow {
  round: number;
  /** RAM sent during this round (the difference of QEMU's running total). */
  sentBytes: number;
  /** RAM sent since the start. */
  totalSentBytes: number;
  remainingBytes: number;
  dirtyPagesRate: number;
  dirtyBytesPerSec: number;
  expectedDowntimeMs: number | null;
  throughputBytesPerSec: number;
}

/** The rounds in order, each with what it sent; a round QEMU reported twice counts once (the last report). */
export function roundRows(rounds: readonly MigrationRound[]): RoundRow[] {
  const last = new Map<number, MigrationRound>();
  for (const r of rounds) last.set(r.round, r);
  let before = 0;
  return [...last.values()]
    .sort((a, b) => a.round - b.round)
    .map((r) => {
      const row: RoundRow = {
        round: r.round,
        sentBytes: Math.max(0, r.ramTransferredBytes - before),
        totalSentBytes: r.ramTransferredBytes,
        remainingBytes: r.ramRemainingBytes,
        dirtyPagesRate: r.dirtyPagesRate,
        dirtyBytesPerSec: r.dirtyPagesRate * PAGE_BYTES,
        expectedDowntimeMs: r.expectedDowntimeMs,
        // QEMU's mbps: megabits per second.
        throughputBytesPerSec: (r.throughputMbps * 1e6) / 8,
      };
      before = r.ramTransferredBytes;
      return row;
    });
}

/** 0 B, 512 KiB, 12.3 MiB, 1.50 GiB (German: 12,3 MiB, 1,50 GiB). */
export function formatBytes(bytes: number): string {
  const b = Math.max(0, bytes);
  if (b >= GiB) return `${fixed(b / GiB, 2)} GiB`;
  if (b >= 10 * MiB) return `${fixed(b / MiB, 0)} MiB`;
  if (b >= MiB) return `${fixed(b / MiB, 1)} MiB`;
  if (b >= KiB) return `${Math.round(b / KiB)} KiB`;
  return `${Math.round(b)} B`;
}

export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`;
}

/** 850 ms, 12.4 s, 2 min 05 s (German: 12,4 s). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${fixed(ms / 1000, 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function toMiB(bytes: number): number {
  return Math.round((bytes / MiB) * 100) / 100;
}

/** What the end of the view shows. */
export interface MigrationSummary {
  totalMs: number;
  downtimeMs: number | null;
  rounds: number;
  ramBytes: number;
  diskBytes: number;
  /** Everything sent (RAM and disks) over the whole migration, per second. */
  averageBytesPerSec: number;
}

export function summarize(o: MigrationOutcome): MigrationSummary {
  const rounds = new Set(o.rounds.map((r) => r.round)).size;
  const bytes = o.ramBytes + o.diskBytes;
  return {
    totalMs: o.totalMs,
    downtimeMs: o.downtimeMs,
    rounds,
    ramBytes: o.ramBytes,
    diskBytes: o.diskBytes,
    averageBytesPerSec: o.totalMs > 0 ? (bytes * 1000) / o.totalMs : 0,
  };
}

/** Cancel is offered until the switchover: after it the destination owns the machine. */
export function cancellable(task: Pick<TaskInfo, 'state'> | null, detail: MigrationDetail | null): boolean {
  return (
    task?.state === 'running' && (detail === null || detail.phase === 'preparing' || detail.phase === 'disks' || detail.phase === 'ram')
  );
}
