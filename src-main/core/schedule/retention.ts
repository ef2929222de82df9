/**
 * Which scheduled snapshots a retention rule keeps: Proxmox's keep-* model, as Proxmox Backup Server
 * documents and implements it (prune.rs, mark_selections). The rules run in the order keep-last,
 * keep-hourly, keep-daily, keep-weekly over the snapshots newest first; each keeps the newest
 * snapshot of each of its N most recent periods (local time; ISO weeks, Monday first) and only looks
 * at snapshots no earlier rule has decided on: a period an earlier rule already covers is not counted
 * again, and a snapshot passed over in favour of a newer one of the same period stays removed. What
 * no rule keeps is removed. Only scheduled snapshots are ever given to it.
 */
import type { KeepRule, Retention } from '../../api/schedule.js';

export interface Dated {
  id: string;
  createdAt: string;
}

export interface Selection {
  /** Each kept snapshot with the rule that kept it. */
  keep: Map<string, KeepRule>;
  remove: string[];
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
}

function localParts(date: Date, tz?: string): LocalParts {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
  });
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) };
}

/** ISO 8601 week of a calendar date: the week belongs to the year holding its Thursday. */
export function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}/W${String(week).padStart(2, '0')}`;
}

function periodOf(rule: KeepRule, snapshot: Dated, tz?: string): string {
  if (rule === 'keepLast') return snapshot.id;
  const p = localParts(new Date(snapshot.createdAt), tz);
  if (rule === 'keepHourly') return `${p.year}/${p.month}/${p.day}/${p.hour}`;
  if (rule === 'keepDaily') return `${p.year}/${p.month}/${p.day}`;
  return isoWeek(p.year, p.month, p.day);
}

const ORDER: readonly KeepRule[] = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly'];

export function selectRetained(snapshots: readonly Dated[], retention: Retention, tz?: string): Selection {
  const newestFirst = [...snapshots].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const marks = new Map<string, KeepRule | 'remove'>();
  for (const rule of ORDER) {
    const count = retention[rule] ?? 0;
    if (count === 0) continue;
    // Periods an earlier rule already keeps a snapshot of are not this rule's to fill again.
    const covered = new Set(newestFirst.filter((s) => (marks.get(s.id) ?? 'remove') !== 'remove').map((s) => periodOf(rule, s, tz)));
    const included = new Set<string>();
    for (const s of newestFirst) {
      if (marks.has(s.id)) continue;
      const period = periodOf(rule, s, tz);
      if (covered.has(period)) continue;
      if (included.has(period)) {
        marks.set(s.id, 'remove');
        continue;
      }
      if (included.size >= count) break;
      included.add(period);
      marks.set(s.id, rule);
    }
  }
  const keep = new Map<string, KeepRule>();
  const remove: string[] = [];
  for (const s of newestFirst) {
    const mark = marks.get(s.id);
    if (mark === undefined || mark === 'remove') remove.push(s.id);
    else keep.set(s.id, mark);
  }
  return { keep, remove };
}
