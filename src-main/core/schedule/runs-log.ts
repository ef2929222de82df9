/**
 * The scheduler's runs in the task history. The scheduler is its own process, so its runs are not
 * tasks of the core a window talks to: each run appends a JSON line when it begins and one when it
 * ends (schedule-runs.jsonl in the library home, written only by the scheduler holding its lock), and
 * every core reads the latest runs into its task list; a long-lived core watches the file and sends
 * them as task events, so a window shows a run as it happens.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../api/errors.js';
import type { TaskInfo } from '../../api/types.js';
import { SCHEDULE_RUNS_FILE } from '../paths.js';

/** Runs shown in the task history. */
const SHOWN_RUNS = 20;
/** Past this size the file is moved to .old when the next run begins. */
const ROTATE_BYTES = 512 * 1024;
/** Task ids of scheduled runs start with this: they are read, not cancelled. */
export const RUN_TASK_PREFIX = 'schedule-';

const runLineSchema = z.object({
  runId: z.string(),
  machine: z.object({ uuid: z.string(), name: z.string() }),
  /** The slot the run is for (ISO time). */
  slot: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  message: z.string(),
  /** A failed run's error code. */
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).optional(),
});
export type RunLine = z.infer<typeof runLineSchema>;

export function runsFile(home: string): string {
  return path.join(home, SCHEDULE_RUNS_FILE);
}

export async function appendRun(home: string, line: RunLine): Promise<void> {
  const file = runsFile(home);
  if (line.state === 'running') {
    const size = await fsp.stat(file).then(
      (s) => s.size,
      () => 0,
    );
    if (size > ROTATE_BYTES) await fsp.rename(file, `${file}.old`).catch(() => undefined);
  }
  // One write of one line, opened for appending: a killed scheduler leaves whole lines (a torn last one is skipped).
  const handle = await fsp.open(file, 'a', 0o600);
  try {
    await handle.write(`${JSON.stringify(line)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The latest runs, folded by run (its last line wins), newest first. */
export function readRuns(home: string, limit = SHOWN_RUNS): RunLine[] {
  let text: string;
  try {
    text = fs.readFileSync(runsFile(home), 'utf8');
  } catch {
    return [];
  }
  const runs = new Map<string, RunLine>();
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    const parsed = runLineSchema.safeParse(value);
    if (!parsed.success) continue;
    runs.delete(parsed.data.runId);
    runs.set(parsed.data.runId, parsed.data);
  }
  return [...runs.values()].reverse().slice(0, limit);
}

export function runTask(run: RunLine): TaskInfo {
  const task: TaskInfo = {
    id: `${RUN_TASK_PREFIX}${run.runId}`,
    title: `Scheduled snapshot of ${run.machine.name}`,
    state: run.state,
    progress: run.state === 'done' ? 1 : null,
    message: run.message,
    startedAt: run.startedAt,
    result: { machine: run.machine, slot: run.slot, scheduled: true },
  };
  if (run.endedAt) task.endedAt = run.endedAt;
  if (run.state === 'failed') task.error = { code: run.code ?? 'INTERNAL', message: run.message };
  return task;
}

export function scheduledRunTasks(home: string): TaskInfo[] {
  return readRuns(home).map(runTask);
}
