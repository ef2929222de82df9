/**
 * Scheduled snapshots as they cross the API boundary: a machine's schedule (hourly, daily or weekly
 * at a time, or a cron expression), its retention rule (Proxmox's keep-last/hourly/daily/weekly) and
 * what the scheduler did last. The cron expression's own syntax is checked by the core (cron-parser),
 * so the renderer does not carry the parser; everything else is checked here, by every front end.
 */
import { z } from 'zod';

export const SCHEDULE_EVERY = ['hourly', 'daily', 'weekly', 'cron'] as const;
export type ScheduleEvery = (typeof SCHEDULE_EVERY)[number];
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const WEEKDAY_NAMES: Record<Weekday, string> = {
  sun: 'Sunday',
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
};
export const KEEP_RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly'] as const;
export type KeepRule = (typeof KEEP_RULES)[number];
export const MAX_KEEP = 1000;

const keepCount = z
  .int('A keep count must be a whole number')
  .min(0, 'A keep count must be 0 or more')
  .max(MAX_KEEP, `At most ${MAX_KEEP}`);

/** The keep-* counts, unchecked as a whole (scheduled snapshots and backup points each say what they need). */
export const keepRulesSchema = z
  .object({
    keepLast: keepCount.optional(),
    keepHourly: keepCount.optional(),
    keepDaily: keepCount.optional(),
    keepWeekly: keepCount.optional(),
  })
  .strict();

export const retentionSchema = keepRulesSchema.refine((r) => KEEP_RULES.some((k) => (r[k] ?? 0) > 0), {
  message: 'Keep at least one scheduled snapshot: set keep-last, keep-hourly, keep-daily or keep-weekly above 0',
});
export type Retention = z.infer<typeof retentionSchema>;

export const scheduleInputSchema = z
  .object({
    every: z.enum(SCHEDULE_EVERY, { error: 'every must be hourly, daily, weekly or cron' }),
    /** Local time of a daily or weekly run, HH:MM (24 h). */
    at: z
      .string()
      .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'The time must be HH:MM, from 00:00 to 23:59')
      .optional(),
    /** The day of a weekly run (default Sunday). */
    weekday: z.enum(WEEKDAYS, { error: 'The day must be sun, mon, tue, wed, thu, fri or sat' }).optional(),
    /** Five fields: minute hour day-of-month month day-of-week (local time). */
    cron: z
      .string()
      .min(1, 'The cron expression must not be empty')
      .max(200, 'The cron expression is too long')
      .regex(/^[0-9A-Za-z*/,\- ]+$/, 'A cron expression has only digits, names, spaces and * / , -')
      .optional(),
    retention: retentionSchema,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.at !== undefined && s.every !== 'daily' && s.every !== 'weekly')
      ctx.addIssue({ code: 'custom', path: ['at'], message: 'A time (--at) is only for a daily or weekly schedule' });
    if (s.weekday !== undefined && s.every !== 'weekly')
      ctx.addIssue({ code: 'custom', path: ['weekday'], message: 'A day is only for a weekly schedule' });
    if (s.every === 'cron' && s.cron === undefined)
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'A cron schedule needs its expression' });
    if (s.every !== 'cron' && s.cron !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'A cron expression goes with every: cron' });
  });
export type ScheduleInput = z.input<typeof scheduleInputSchema>;
export type ScheduleSettings = z.infer<typeof scheduleInputSchema>;

/** What one scheduled run did. */
export interface ScheduleRunOutcome {
  /** The slot it ran for (ISO time); missed slots are collapsed into the latest one. */
  slot: string;
  startedAt: string;
  endedAt: string;
  outcome: 'done' | 'failed';
  /** The snapshot taken, or why none was. */
  message: string;
  snapshot: { id: string; name: string; kind: 'live' | 'disk' } | null;
  /** Scheduled snapshots the retention rule removed, and those it had to keep (a linked clone rests on them). */
  pruned: string[];
  skipped: Array<{ name: string; why: string }>;
}

export interface ScheduleStatus {
  machine: { uuid: string; name: string };
  /** null: no schedule. */
  schedule: (ScheduleSettings & { setAt: string }) | null;
  /** The schedule in cron form (five fields, local time), and said in words. */
  cron: string | null;
  describe: string;
  /** The next slot (local time of this host), or null without a schedule. */
  nextRun: string | null;
  lastRun: ScheduleRunOutcome | null;
  /** The scheduler process of this library, or null when none runs. */
  schedulerPid: number | null;
}
