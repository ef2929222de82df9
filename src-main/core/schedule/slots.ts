/**
 * The schedule's maths: every schedule becomes a cron expression in the host's local time (hourly at
 * minute 0, daily and weekly at their time), parsed by cron-parser, which walks local time through
 * DST changes (a daily 02:30 runs once on the day the clocks skip or repeat that hour). A run is due
 * when the latest slot at or before now is newer than the last slot run and than the schedule
 * itself: however many slots were missed (host asleep or off, scheduler dead), one run covers them.
 */
import { CronExpressionParser } from 'cron-parser';
import { VmdeskError } from '../../api/errors.js';
import { WEEKDAYS, WEEKDAY_NAMES, type ScheduleSettings } from '../../api/schedule.js';

/** Lets tests use a schedule in seconds (six fields); never set outside tests. */
export const TEST_SECONDS_ENV = 'VMDESK_TEST_SCHEDULE_SECONDS';

export interface SlotOptions {
  /** IANA time zone; default the host's. */
  tz?: string;
  /** Six-field expressions (seconds first) allowed: the test-only minimum. */
  seconds?: boolean;
}

export function cronOf(s: Pick<ScheduleSettings, 'every' | 'at' | 'weekday' | 'cron'>): string {
  const [h, m] = (s.at ?? '00:00').split(':').map(Number);
  switch (s.every) {
    case 'hourly':
      return '0 * * * *';
    case 'daily':
      return `${m} ${h} * * *`;
    case 'weekly':
      return `${m} ${h} * * ${WEEKDAYS.indexOf(s.weekday ?? 'sun')}`;
    case 'cron':
      return (s.cron ?? '').trim().replace(/\s+/g, ' ');
  }
}

function parse(cron: string, currentDate: Date, options: SlotOptions): ReturnType<typeof CronExpressionParser.parse> {
  const fields = cron.split(' ').length;
  if (fields !== 5 && !(options.seconds && fields === 6))
    throw new VmdeskError('INVALID_INPUT', `A cron expression has 5 fields (minute hour day month weekday), not ${fields}: "${cron}"`);
  try {
    return CronExpressionParser.parse(cron, { currentDate, ...(options.tz ? { tz: options.tz } : {}), strict: false });
  } catch (err) {
    throw new VmdeskError('INVALID_INPUT', `Invalid cron expression "${cron}": ${(err as Error).message}`);
  }
}

/** Refuses an expression cron-parser cannot read, or one that never fires. */
export function checkCron(cron: string, options: SlotOptions = {}): void {
  nextSlot(cron, new Date(), options);
}

/** The first slot strictly after `after`. */
export function nextSlot(cron: string, after: Date, options: SlotOptions = {}): Date {
  try {
    return parse(cron, after, options).next().toDate();
  } catch (err) {
    if (err instanceof VmdeskError) throw err;
    throw new VmdeskError('INVALID_INPUT', `The cron expression "${cron}" never fires`);
  }
}

/** The latest slot at or before `now`, or null when there is none (within cron-parser's search). */
export function latestSlot(cron: string, now: Date, options: SlotOptions = {}): Date | null {
  try {
    return parse(cron, new Date(now.getTime() + 1), options)
      .prev()
      .toDate();
  } catch (err) {
    if (err instanceof VmdeskError) throw err;
    return null;
  }
}

/**
 * The slot to run now, or null: the latest slot at or before now, if the schedule existed then and
 * no run has covered it yet.
 */
export function dueSlot(cron: string, setAt: Date, lastSlot: Date | null, now: Date, options: SlotOptions = {}): Date | null {
  const latest = latestSlot(cron, now, options);
  if (!latest || latest.getTime() <= setAt.getTime()) return null;
  if (lastSlot && latest.getTime() <= lastSlot.getTime()) return null;
  return latest;
}

/** The next time a run is due: after the last slot covered, never before the schedule was set. */
export function nextRun(cron: string, setAt: Date, lastSlot: Date | null, now: Date, options: SlotOptions = {}): Date {
  const due = dueSlot(cron, setAt, lastSlot, now, options);
  return due ?? nextSlot(cron, now, options);
}

/** The schedule in words, for the CLI and the Settings tab. */
export function describeSchedule(s: Pick<ScheduleSettings, 'every' | 'at' | 'weekday' | 'cron'>): string {
  switch (s.every) {
    case 'hourly':
      return 'every hour, on the hour';
    case 'daily':
      return `every day at ${s.at ?? '00:00'}`;
    case 'weekly':
      return `every ${WEEKDAY_NAMES[s.weekday ?? 'sun']} at ${s.at ?? '00:00'}`;
    case 'cron':
      return `cron "${cronOf(s)}"`;
  }
}
