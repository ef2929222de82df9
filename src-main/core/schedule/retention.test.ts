import { describe, expect, it } from 'vitest';
import { isoWeek, selectRetained, type Dated } from './retention.js';

/** Snapshots named by their UTC time. */
const snaps = (...times: string[]): Dated[] => times.map((t) => ({ id: t, createdAt: new Date(`${t}Z`).toISOString() }));
const kept = (list: Dated[], retention: Parameters<typeof selectRetained>[1]): string[] =>
  [...selectRetained(list, retention, 'UTC').keep.keys()].sort();

describe('retention (Proxmox keep-*)', () => {
  it('keep-last keeps the newest N', () => {
    const list = snaps('2026-06-01T01:00', '2026-06-01T02:00', '2026-06-01T03:00', '2026-06-01T04:00');
    const s = selectRetained(list, { keepLast: 2 }, 'UTC');
    expect([...s.keep.keys()]).toEqual(['2026-06-01T04:00', '2026-06-01T03:00']);
    expect(s.remove).toEqual(['2026-06-01T02:00', '2026-06-01T01:00']);
  });

  it('keep-hourly keeps the newest of each of the last N hours', () => {
    const list = snaps('2026-06-01T01:10', '2026-06-01T01:50', '2026-06-01T02:10', '2026-06-01T02:40', '2026-06-01T03:05');
    expect(kept(list, { keepHourly: 2 })).toEqual(['2026-06-01T02:40', '2026-06-01T03:05']);
  });

  it('each rule only looks past what earlier rules kept, and a period already covered is not counted again', () => {
    // Two a day for four days. keep-last 3 keeps the three newest (days 4 and 3); keep-daily 2 then
    // skips days 4 and 3 (covered) and keeps the newest of days 2 and 1.
    const list = snaps(
      '2026-06-01T06:00',
      '2026-06-01T18:00',
      '2026-06-02T06:00',
      '2026-06-02T18:00',
      '2026-06-03T06:00',
      '2026-06-03T18:00',
      '2026-06-04T06:00',
      '2026-06-04T18:00',
    );
    const s = selectRetained(list, { keepLast: 3, keepDaily: 2 }, 'UTC');
    expect(Object.fromEntries(s.keep)).toEqual({
      '2026-06-04T18:00': 'keepLast',
      '2026-06-04T06:00': 'keepLast',
      '2026-06-03T18:00': 'keepLast',
      '2026-06-02T18:00': 'keepDaily',
      '2026-06-01T18:00': 'keepDaily',
    });
    expect(s.remove.sort()).toEqual(['2026-06-01T06:00', '2026-06-02T06:00', '2026-06-03T06:00']);
  });

  it('a snapshot passed over for a newer one of its hour stays removed, even if a later rule could keep it', () => {
    const list = snaps('2026-06-01T10:10', '2026-06-01T10:20');
    // keep-hourly keeps 10:20 and marks 10:10 removed; keep-daily finds the day covered.
    expect(kept(list, { keepHourly: 1, keepDaily: 5 })).toEqual(['2026-06-01T10:20']);
  });

  it('keep-weekly uses ISO weeks (Monday first, the week of its Thursday) across a year end', () => {
    expect(isoWeek(2026, 12, 31)).toBe('2026/W53');
    expect(isoWeek(2027, 1, 3)).toBe('2026/W53');
    expect(isoWeek(2027, 1, 4)).toBe('2027/W01');
    expect(isoWeek(2024, 12, 30)).toBe('2025/W01');
    const list = snaps('2026-12-28T10:00', '2027-01-03T10:00', '2027-01-04T10:00', '2027-01-10T10:00');
    expect(kept(list, { keepWeekly: 2 })).toEqual(['2027-01-03T10:00', '2027-01-10T10:00']);
  });

  it('groups by local time: one UTC day is two days in Tokyo', () => {
    const list = snaps('2026-06-01T10:00', '2026-06-01T16:00');
    expect(selectRetained(list, { keepDaily: 5 }, 'UTC').keep.size).toBe(1);
    expect(selectRetained(list, { keepDaily: 5 }, 'Asia/Tokyo').keep.size).toBe(2);
  });

  it('keeps nothing it is not told to, and handles an empty list', () => {
    expect(selectRetained([], { keepLast: 3 }).remove).toEqual([]);
    const list = snaps('2026-06-01T10:00', '2026-06-02T10:00');
    expect(selectRetained(list, { keepLast: 0, keepHourly: 1 }, 'UTC').remove).toEqual(['2026-06-01T10:00']);
  });
});
