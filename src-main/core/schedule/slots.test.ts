import { describe, expect, it } from 'vitest';
import { scheduleInputSchema } from '../../api/schedule.js';
import { cronOf, describeSchedule, dueSlot, latestSlot, nextRun, nextSlot } from './slots.js';

const BERLIN = { tz: 'Europe/Berlin' };
const at = (iso: string): Date => new Date(iso);

/** Every slot in [from, to), walking nextSlot. */
function slotsBetween(cron: string, from: string, to: string, options = BERLIN): string[] {
  const out: string[] = [];
  for (let t = nextSlot(cron, at(from), options); t < at(to); t = nextSlot(cron, t, options)) out.push(t.toISOString());
  return out;
}

describe('schedules as cron expressions', () => {
  it('turns hourly, daily and weekly into five fields', () => {
    expect(cronOf({ every: 'hourly' })).toBe('0 * * * *');
    expect(cronOf({ every: 'daily', at: '03:15' })).toBe('15 3 * * *');
    expect(cronOf({ every: 'weekly', at: '22:05', weekday: 'fri' })).toBe('5 22 * * 5');
    expect(cronOf({ every: 'weekly' })).toBe('0 0 * * 0');
    expect(cronOf({ every: 'cron', cron: ' */15   9-17 * * 1-5 ' })).toBe('*/15 9-17 * * 1-5');
    expect(describeSchedule({ every: 'weekly', at: '22:05', weekday: 'fri' })).toBe('every Friday at 22:05');
  });

  it('refuses bad expressions, and seconds unless a test asks for them', () => {
    expect(() => nextSlot('61 * * * *', new Date())).toThrow(/Invalid cron expression "61 \* \* \* \*"/);
    expect(() => nextSlot('0 0 31 2 *', new Date())).toThrow(/Invalid cron|never fires/);
    expect(() => nextSlot('* * * *', new Date())).toThrow(/5 fields/);
    expect(() => nextSlot('*/5 * * * * *', new Date())).toThrow(/5 fields/);
    expect(nextSlot('*/5 * * * * *', at('2026-12-03T08:00:01Z'), { seconds: true }).toISOString()).toBe('2026-12-03T08:00:05.000Z');
  });
});

describe('when a run is due', () => {
  const hourly = '0 * * * *';
  const setAt = at('2026-06-01T00:10:00Z');
  const utc = { tz: 'UTC' };

  it('is the latest slot at or before now, never one before the schedule was set', () => {
    expect(latestSlot(hourly, at('2026-06-01T05:00:00Z'), utc)?.toISOString()).toBe('2026-06-01T05:00:00.000Z');
    expect(dueSlot(hourly, setAt, null, at('2026-06-01T00:50:00Z'), utc)).toBeNull();
    expect(dueSlot(hourly, setAt, null, at('2026-06-01T01:00:00Z'), utc)?.toISOString()).toBe('2026-06-01T01:00:00.000Z');
  });

  it('collapses missed slots into one run at the next occasion', () => {
    // The host slept from 01:30 to 05:30: four slots missed, one run, for 05:00.
    const last = at('2026-06-01T01:00:00Z');
    expect(dueSlot(hourly, setAt, last, at('2026-06-01T05:30:00Z'), utc)?.toISOString()).toBe('2026-06-01T05:00:00.000Z');
    const after = at('2026-06-01T05:00:00Z');
    expect(dueSlot(hourly, setAt, after, at('2026-06-01T05:59:59Z'), utc)).toBeNull();
    expect(nextRun(hourly, setAt, after, at('2026-06-01T05:31:00Z'), utc).toISOString()).toBe('2026-06-01T06:00:00.000Z');
    // Before the run happens, the next run is the missed one, now.
    expect(nextRun(hourly, setAt, last, at('2026-06-01T05:30:00Z'), utc).toISOString()).toBe('2026-06-01T05:00:00.000Z');
  });

  it('never runs a slot twice', () => {
    const last = at('2026-06-01T05:00:00Z');
    for (const now of ['2026-06-01T05:00:00Z', '2026-06-01T05:00:00.500Z', '2026-06-01T05:59:59.999Z'])
      expect(dueSlot(hourly, setAt, last, at(now), utc)).toBeNull();
  });
});

describe('local times across DST changes (Europe/Berlin)', () => {
  it('runs a daily 02:30 once on the day the clocks skip 02:00–03:00, and once on the day they repeat it', () => {
    const spring = slotsBetween('30 2 * * *', '2026-03-27T12:00:00Z', '2026-03-31T00:00:00Z');
    expect(spring).toHaveLength(3);
    // 29 March: 02:30 does not exist; the run is at 03:30 CEST (01:30 UTC), once.
    expect(spring[1]).toBe('2026-03-29T01:30:00.000Z');
    const autumn = slotsBetween('30 2 * * *', '2026-10-23T12:00:00Z', '2026-10-27T00:00:00Z');
    expect(autumn).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('keeps a daily time on local time: 03:00 is 01:00 UTC in summer and 02:00 UTC in winter', () => {
    expect(nextSlot('0 3 * * *', at('2026-07-01T00:00:00Z'), BERLIN).toISOString()).toBe('2026-07-01T01:00:00.000Z');
    expect(nextSlot('0 3 * * *', at('2026-12-01T00:00:00Z'), BERLIN).toISOString()).toBe('2026-12-01T02:00:00.000Z');
  });

  it('runs hourly every real hour through the repeated hour', () => {
    const hours = slotsBetween('0 * * * *', '2026-10-24T21:59:00Z', '2026-10-25T23:00:00Z');
    // 25 October 2026 in Berlin has 25 hours.
    expect(hours).toHaveLength(25);
    expect(new Set(hours).size).toBe(25);
  });
});

describe('the schedule input', () => {
  const refuse = (input: unknown): string => {
    const r = scheduleInputSchema.safeParse(input);
    expect(r.success).toBe(false);
    return r.error?.issues.map((i) => i.message).join('; ') ?? '';
  };

  it('refuses a time without a daily or weekly schedule, a keep of nothing, a cron without its expression', () => {
    expect(refuse({ every: 'hourly', at: '03:00', retention: { keepLast: 2 } })).toMatch(/only for a daily or weekly/);
    expect(refuse({ every: 'daily', retention: { keepLast: 0, keepDaily: 0 } })).toMatch(/Keep at least one/);
    expect(refuse({ every: 'daily', retention: {} })).toMatch(/Keep at least one/);
    expect(refuse({ every: 'cron', retention: { keepLast: 1 } })).toMatch(/needs its expression/);
    expect(refuse({ every: 'daily', at: '24:00', retention: { keepLast: 1 } })).toMatch(/HH:MM/);
    expect(refuse({ every: 'cron', cron: '0 0 * * *; rm -rf /', retention: { keepLast: 1 } })).toMatch(/only digits/);
    expect(refuse({ every: 'daily', weekday: 'mon', retention: { keepLast: 1 } })).toMatch(/only for a weekly/);
    expect(scheduleInputSchema.parse({ every: 'weekly', at: '04:00', weekday: 'sat', retention: { keepWeekly: 4 } })).toMatchObject({
      weekday: 'sat',
    });
  });
});
