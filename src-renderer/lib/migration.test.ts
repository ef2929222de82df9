import { describe, expect, it } from 'vitest';
import type { MigrationDetail, MigrationOutcome, MigrationRound } from '../../src-main/api/migration';
import {
  PAGE_BYTES,
  cancellable,
  isOfflineMigration,
  migrationMode,
  formatBytes,
  formatDuration,
  migrateOptions,
  migrationDetail,
  migrationOutcome,
  outcomeWarnings,
  roundRows,
  summarize,
} from './migration';

const MiB = 1024 * 1024;
const round = (n: number, sentMiB: number, leftMiB: number, extra: Partial<MigrationRound> = {}): MigrationRound => ({
  round: n,
  ramTransferredBytes: sentMiB * MiB,
  ramRemainingBytes: leftMiB * MiB,
  ramTotalBytes: 128 * MiB,
  dirtyPagesRate: 1000 * n,
  expectedDowntimeMs: 100 * n,
  throughputMbps: 67.108864,
  at: '2025-01-01T00:00:00.000Z',
  ...extra,
});
/** An outcome as the core sends it (whatever optional fields its version adds). */
const outcomeOf = (o: Record<string, unknown>): MigrationOutcome => o as unknown as MigrationOutcome;
const detail = (over: Partial<MigrationDetail> = {}): MigrationDetail => ({
  phase: 'ram',
  offline: false,
  machine: 'web',
  to: 'lab',
  disk: { doneBytes: 64 * MiB, totalBytes: 64 * MiB },
  rounds: [round(1, 40, 20), round(2, 56, 8)],
  notConverging: null,
  ...over,
});

describe('a task recognised as a migration', () => {
  it('reads a migration’s detail, and nothing else', () => {
    expect(migrationDetail({ detail: detail() })?.rounds).toHaveLength(2);
    expect(migrationDetail({ detail: undefined })).toBeNull();
    expect(migrationDetail(null)).toBeNull();
    expect(migrationDetail({ detail: { phase: 'copying' } })).toBeNull();
    expect(migrationDetail({ detail: { ...detail(), rounds: [{ round: 'one' }] } })).toBeNull();
    expect(migrationDetail({ detail: { ...detail(), disk: null } })).toBeNull();
  });

  it('reads the outcome of a done task only', () => {
    const outcome = {
      name: 'web',
      to: 'lab',
      totalMs: 8000,
      downtimeMs: 42,
      rounds: [],
      ramBytes: MiB,
      diskBytes: MiB,
      warnings: [],
    } as MigrationOutcome;
    expect(migrationOutcome({ state: 'done', result: outcome })?.downtimeMs).toBe(42);
    expect(migrationOutcome({ state: 'running', result: outcome })).toBeNull();
    expect(migrationOutcome({ state: 'done', result: 'uuid' })).toBeNull();
    expect(outcomeWarnings(outcome)).toEqual([]);
    expect(outcomeWarnings(outcomeOf({ ...outcome, warnings: ['the source did not stop', 3] }))).toEqual(['the source did not stop']);
    expect(outcomeWarnings(null)).toEqual([]);
  });
});

describe('rounds as rows', () => {
  it('gives each round what it sent (QEMU counts a running total) and its rates', () => {
    const rows = roundRows([round(1, 40, 20), round(2, 56, 8), round(3, 60, 1)]);
    expect(rows.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.sentBytes / MiB)).toEqual([40, 16, 4]);
    expect(rows.map((r) => r.remainingBytes / MiB)).toEqual([20, 8, 1]);
    expect(rows[1]?.dirtyBytesPerSec).toBe(2000 * PAGE_BYTES);
    expect(rows[0]?.throughputBytesPerSec).toBeCloseTo(8 * MiB);
  });

  it('keeps the last report of a round given twice, and sorts them', () => {
    const rows = roundRows([round(2, 56, 8), round(1, 30, 30), round(1, 40, 20)]);
    expect(rows.map((r) => [r.round, r.sentBytes / MiB])).toEqual([
      [1, 40],
      [2, 16],
    ]);
  });
});

describe('figures in words', () => {
  it('formats bytes and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512 * 1024)).toBe('512 KiB');
    expect(formatBytes(1.5 * MiB)).toBe('1.5 MiB');
    expect(formatBytes(123 * MiB)).toBe('123 MiB');
    expect(formatBytes(1536 * MiB)).toBe('1.50 GiB');
    expect(formatDuration(42)).toBe('42 ms');
    expect(formatDuration(12_400)).toBe('12.4 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
  });

  it('sums up a migration: rounds counted once, throughput over the whole time', () => {
    const s = summarize(
      outcomeOf({
        name: 'web',
        to: 'lab',
        totalMs: 10_000,
        downtimeMs: 80,
        rounds: [round(1, 40, 20), round(2, 56, 8), round(2, 57, 7)],
        ramBytes: 60 * MiB,
        diskBytes: 20 * MiB,
        warnings: [],
      }),
    );
    expect(s).toMatchObject({ rounds: 2, downtimeMs: 80, ramBytes: 60 * MiB, diskBytes: 20 * MiB });
    expect(s.averageBytesPerSec).toBe(8 * MiB);
  });
});

describe('cancel and options', () => {
  it('offers Cancel until the switchover only', () => {
    expect(cancellable({ state: 'running' }, detail({ phase: 'disks' }))).toBe(true);
    expect(cancellable({ state: 'running' }, detail({ phase: 'ram' }))).toBe(true);
    expect(cancellable({ state: 'running' }, detail({ phase: 'switchover' }))).toBe(false);
    expect(cancellable({ state: 'done' }, detail({ phase: 'done' }))).toBe(false);
  });

  it('builds the options the API takes, empty fields left out, and refuses what its schema refuses', () => {
    expect(migrateOptions({ mode: 'live', to: 'lab', bandwidthMiBs: null, maxDowntimeMs: null, autoConverge: false })).toEqual({
      options: { to: 'lab' },
    });
    expect(migrateOptions({ mode: 'live', to: 'lab', bandwidthMiBs: 8, maxDowntimeMs: 500, autoConverge: true })).toEqual({
      options: { to: 'lab', bandwidthMiBs: 8, maxDowntimeMs: 500, autoConverge: true },
    });
    expect(migrateOptions({ mode: 'live', to: '', bandwidthMiBs: null, maxDowntimeMs: null, autoConverge: false })).toEqual({
      error: 'Choose the destination host',
    });
    // Offline: the pre-copy's limits do not apply and are not sent.
    expect(migrateOptions({ mode: 'offline', to: 'lab', bandwidthMiBs: 8, maxDowntimeMs: 500, autoConverge: true })).toEqual({
      options: { to: 'lab', offline: true },
    });
    const bad = migrateOptions({ mode: 'live', to: 'lab', bandwidthMiBs: 1.5, maxDowntimeMs: null, autoConverge: false });
    expect('error' in bad && bad.error).toMatch(/^Bandwidth limit: /);
    const long = migrateOptions({ mode: 'live', to: 'lab', bandwidthMiBs: null, maxDowntimeMs: 120_000, autoConverge: false });
    expect('error' in long && long.error).toMatch(/^Max downtime: /);
  });
});

describe('live or offline', () => {
  it('follows the machine’s state', () => {
    expect(migrationMode('running')).toBe('live');
    expect(migrationMode('paused')).toBe('live');
    expect(migrationMode('stopped')).toBe('offline');
    expect(migrationMode('starting')).toBeNull();
    expect(migrationMode(undefined)).toBeNull();
  });

  it('tells an offline task by its options, its detail, or its outcome', () => {
    const offlineEnd = outcomeOf({ name: 'web', to: 'lab', totalMs: 900, downtimeMs: null, rounds: [], ramBytes: 0, diskBytes: MiB });
    const liveEnd = outcomeOf({
      name: 'web',
      to: 'lab',
      totalMs: 900,
      downtimeMs: 40,
      rounds: [round(1, 1, 0)],
      ramBytes: MiB,
      diskBytes: 0,
    });
    expect(isOfflineMigration({ offline: true }, null, null)).toBe(true);
    expect(isOfflineMigration({}, null, offlineEnd)).toBe(false);
    expect(isOfflineMigration(null, { ...detail({ rounds: [] }), offline: true }, null)).toBe(true);
    expect(isOfflineMigration(null, detail({ rounds: [] }), null)).toBe(false);
    expect(isOfflineMigration(null, null, offlineEnd)).toBe(true);
    expect(isOfflineMigration(null, null, liveEnd)).toBe(false);
  });
});
