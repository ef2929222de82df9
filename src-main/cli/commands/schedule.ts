/**
 * `vmdesk schedule NAME [--every 1h|1d|1w|CRON] [--at [DAY ]HH:MM] [--keep-* N] [--off] [--json]`:
 * a machine's scheduled snapshots. With no option it shows the schedule (and starts the scheduler if
 * it should run and does not).
 */
import type { Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import { WEEKDAYS, type Retention, type ScheduleInput, type ScheduleStatus, type Weekday } from '../../api/schedule.js';
import type { Core } from '../../core/core.js';
import { readSchedule } from '../../core/schedule/schedule-files.js';
import { scheduleStatus, setSchedule } from '../../core/schedule/schedule-ops.js';
import { coreText, formatDateTime, t } from '../../i18n/i18n.js';
import { fields } from '../format.js';

/** Without any --keep-* option, a new schedule keeps its last seven snapshots. */
const DEFAULT_RETENTION: Retention = { keepLast: 7 };

const EVERY: Record<string, ScheduleInput['every']> = {
  '1h': 'hourly',
  hourly: 'hourly',
  '1d': 'daily',
  daily: 'daily',
  '1w': 'weekly',
  weekly: 'weekly',
};

/** A --keep-* count (0 to 9999). */
export function count(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d{1,4}$/.test(value.trim()))
      throw new VmdeskError('INVALID_INPUT', t('commands.schedule.countInvalid', { flag, value: value.slice(0, 40) }));
    return Number(value);
  };
}

interface Options {
  every?: string;
  at?: string;
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  off?: boolean;
  json?: boolean;
}

/** --at "HH:MM" or "DAY HH:MM" (a weekly schedule's day). */
function splitAt(at: string): { at: string; weekday?: Weekday } {
  const m = /^\s*(?:([A-Za-z]{3})\s+)?(\S+)\s*$/.exec(at);
  const day = m?.[1]?.toLowerCase();
  if (day !== undefined && !(WEEKDAYS as readonly string[]).includes(day))
    throw new VmdeskError('INVALID_INPUT', t('commands.schedule.atInvalid', { days: WEEKDAYS.join(', '), value: at.slice(0, 40) }));
  return { at: m?.[2] ?? at, ...(day ? { weekday: day as Weekday } : {}) };
}

function retentionOf(o: Options): Retention | null {
  const r: Retention = {};
  if (o.keepLast !== undefined) r.keepLast = o.keepLast;
  if (o.keepHourly !== undefined) r.keepHourly = o.keepHourly;
  if (o.keepDaily !== undefined) r.keepDaily = o.keepDaily;
  if (o.keepWeekly !== undefined) r.keepWeekly = o.keepWeekly;
  return Object.keys(r).length > 0 ? r : null;
}

/** The schedule the options ask for; a change of retention alone keeps the rest of the current schedule. */
async function wanted(core: Core, name: string, o: Options): Promise<ScheduleInput> {
  const retention = retentionOf(o);
  if (o.every === undefined) {
    const current = readSchedule((await core.library.find(name)).dir);
    if (!current) throw new VmdeskError('INVALID_INPUT', t('commands.schedule.noSchedule', { name }));
    if (o.at !== undefined) throw new VmdeskError('INVALID_INPUT', t('commands.schedule.atNeedsEvery'));
    return { ...current.settings, retention: retention ?? current.settings.retention };
  }
  const every = EVERY[o.every.trim().toLowerCase()];
  const at: { at?: string; weekday?: Weekday } = o.at !== undefined ? splitAt(o.at) : {};
  if (at.weekday && every !== 'weekly') throw new VmdeskError('INVALID_INPUT', t('commands.schedule.dayOnlyWeekly'));
  return every
    ? { every, ...at, retention: retention ?? DEFAULT_RETENTION }
    : { every: 'cron', cron: o.every, ...at, retention: retention ?? DEFAULT_RETENTION };
}

export function formatSchedule(s: ScheduleStatus): string {
  const lastRun = s.lastRun ? `${formatDateTime(s.lastRun.endedAt)}: ${s.lastRun.outcome}: ${coreText(s.lastRun.message)}` : null;
  if (!s.schedule) {
    const none = t('commands.schedule.none', { name: s.machine.name });
    return [none, ...(lastRun ? fields([[t('commands.schedule.lastRun'), lastRun]]) : [])].join('\n');
  }
  const r = s.schedule.retention;
  const keep = (['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly'] as const)
    .filter((k) => (r[k] ?? 0) > 0)
    .map((k) => t(`commands.schedule.${k}`, { n: r[k] ?? 0 }))
    .join(', ');
  return fields([
    [t('commands.schedule.machine'), s.machine.name],
    [t('commands.schedule.schedule'), `${s.describe} (cron: ${s.cron})`],
    [t('commands.schedule.retention'), t('commands.schedule.keep', { keep })],
    [t('commands.schedule.nextRun'), s.nextRun ? formatDateTime(s.nextRun) : '-'],
    [t('commands.schedule.lastRun'), lastRun ?? t('commands.schedule.noneYet')],
    [
      t('commands.schedule.scheduler'),
      s.schedulerPid !== null ? t('commands.schedule.running', { pid: s.schedulerPid }) : t('commands.schedule.notRunning'),
    ],
  ]).join('\n');
}

export function registerScheduleCommand(program: Command, core: Core): void {
  program
    .command('schedule')
    .argument('<name>', t('cli.theMachine'))
    .description(t('commands.schedule.description'))
    .option('--every <when>', t('commands.schedule.every'))
    .option('--at <time>', t('commands.schedule.at'))
    .option('--keep-last <n>', t('commands.schedule.keepLastOption'), count('--keep-last'))
    .option('--keep-hourly <n>', t('commands.schedule.keepHourlyOption'), count('--keep-hourly'))
    .option('--keep-daily <n>', t('commands.schedule.keepDailyOption'), count('--keep-daily'))
    .option('--keep-weekly <n>', t('commands.schedule.keepWeeklyOption'), count('--keep-weekly'))
    .option('--off', t('commands.schedule.off'))
    .option('--json', t('commands.schedule.json'))
    .action(async (name: string, o: Options) => {
      const changes = o.every !== undefined || o.at !== undefined || retentionOf(o) !== null;
      if (o.off && changes) throw new VmdeskError('INVALID_INPUT', t('commands.schedule.offAlone'));
      let status: ScheduleStatus;
      if (o.off) status = await setSchedule(core, name, null);
      else if (changes) status = await setSchedule(core, name, await wanted(core, name, o));
      else status = await scheduleStatus(core, name);
      process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatSchedule(status)}\n`);
    });
}
