/**
 * A machine's schedule files, in its folder beside machine.json but apart from it: schedule.json (the
 * user's schedule and retention, written by the core) and schedule-state.json (the scheduler's: the
 * last slot covered, the run it has begun, the last outcome). Apart from machine.json because a
 * snapshot keeps the machine's config and a restore brings it back — a schedule must not roll back
 * with it — and so a Settings edit, a snapshot and the scheduler never rewrite each other's file.
 * Both are written atomically (temp, fsync, rename), so a killed writer leaves the old or the new.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import { scheduleInputSchema } from '../../api/schedule.js';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { SCHEDULE_FILE, SCHEDULE_STATE_FILE } from '../paths.js';

export const storedScheduleSchema = z.object({
  version: z.literal(1),
  settings: scheduleInputSchema,
  /** When it was set: slots before it are not due. */
  setAt: z.iso.datetime(),
});
export type StoredSchedule = z.infer<typeof storedScheduleSchema>;

const runOutcomeSchema = z.object({
  slot: z.iso.datetime(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  outcome: z.enum(['done', 'failed']),
  message: z.string(),
  snapshot: z.object({ id: z.string(), name: z.string(), kind: z.enum(['live', 'disk']) }).nullable(),
  pruned: z.array(z.string()),
  skipped: z.array(z.object({ name: z.string(), why: z.string() })),
});

export const scheduleStateSchema = z.object({
  version: z.literal(1),
  /** The latest slot a run has covered (done or failed): never run again. */
  lastSlot: z.iso.datetime().nullable(),
  /** A run begun and not yet recorded as ended: a re-adopting scheduler finishes it. */
  pending: z
    .object({
      slot: z.iso.datetime(),
      runId: z.string(),
      startedAt: z.iso.datetime(),
      /** The machine ran when the run began: a live snapshot pauses it, and a killed run may have left it paused. */
      wasRunning: z.boolean().optional(),
    })
    .nullable(),
  lastRun: runOutcomeSchema.nullable(),
});
export type ScheduleState = z.infer<typeof scheduleStateSchema>;

export const EMPTY_STATE: ScheduleState = { version: 1, lastSlot: null, pending: null, lastRun: null };

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VmdeskError('IO', `Cannot read ${file}: ${(err as Error).message}`, { file });
  }
}

export function hasSchedule(dir: string): boolean {
  return fs.existsSync(path.join(dir, SCHEDULE_FILE));
}

export function readSchedule(dir: string): StoredSchedule | null {
  const file = path.join(dir, SCHEDULE_FILE);
  const raw = readJson(file);
  if (raw === undefined) return null;
  const parsed = storedScheduleSchema.safeParse(raw);
  if (!parsed.success) throw new VmdeskError('IO', `${file} is not a valid schedule: set it again with \`vmdesk schedule\``, { file });
  return parsed.data;
}

export async function writeSchedule(dir: string, schedule: StoredSchedule | null): Promise<void> {
  const file = path.join(dir, SCHEDULE_FILE);
  if (schedule === null) await fsp.rm(file, { force: true });
  else await writeJsonAtomic(file, storedScheduleSchema.parse(schedule));
}

export function readScheduleState(dir: string): ScheduleState {
  const raw = readJson(path.join(dir, SCHEDULE_STATE_FILE));
  const parsed = scheduleStateSchema.safeParse(raw);
  return parsed.success ? parsed.data : { ...EMPTY_STATE };
}

export async function writeScheduleState(dir: string, state: ScheduleState): Promise<void> {
  await writeJsonAtomic(path.join(dir, SCHEDULE_STATE_FILE), scheduleStateSchema.parse(state));
}
