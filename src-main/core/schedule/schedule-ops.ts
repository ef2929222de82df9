/**
 * Scheduled snapshots, the core's side: a machine's schedule set, shown and turned off, and the
 * library's scheduler process (scheduler/scheduler-main.ts) started on demand — when a schedule is
 * set, and by a machine start, a long-lived core (app, server) and any schedule status whenever some
 * machine has a schedule and no scheduler runs (killed, or never started after a reboot).
 */
import { scheduleInputSchema, type ScheduleInput, type ScheduleStatus } from '../../api/schedule.js';
import { parseInput } from '../../api/validation.js';
import { helperEntry, startDetached } from '../fs/detached-helper.js';
import type { Library } from '../library/library.js';
import { runtimeRoot } from '../paths.js';
import { snapshotDisks } from '../snapshots/common.js';
import { hasSchedule, readSchedule, readScheduleState, writeSchedule } from './schedule-files.js';
import { ALREADY_RUNNING_EXIT, runningSchedulerPid, schedulerFiles } from './scheduler/scheduler-files.js';
import { TEST_SECONDS_ENV, checkCron, cronOf, describeSchedule, nextRun, type SlotOptions } from './slots.js';

const START_TIMEOUT_MS = 15_000;
const LOG_ROTATE_BYTES = 1024 * 1024;

/** What schedules need of the core. */
export interface ScheduleCore {
  library: Library;
  env: NodeJS.ProcessEnv;
}

function slotOptions(env: NodeJS.ProcessEnv): SlotOptions {
  return { seconds: env[TEST_SECONDS_ENV] === '1' };
}

async function anyScheduled(library: Library): Promise<boolean> {
  const entries = await library.entries().catch(() => []);
  return entries.some((e) => hasSchedule(e.dir));
}

/** The scheduler's pid: started if some machine has a schedule and none runs; null when nothing is scheduled. */
export async function ensureScheduler(core: ScheduleCore): Promise<number | null> {
  const root = runtimeRoot(core.env);
  const files = schedulerFiles(root, core.library.home);
  const running = runningSchedulerPid(files);
  if (running !== null) return running;
  if (!(await anyScheduled(core.library))) return null;
  await startDetached({
    what: 'The snapshot scheduler',
    entry: helperEntry('scheduler.cjs', 'vmdesk-scheduler.cjs', 'The snapshot scheduler'),
    args: [root, core.library.home],
    env: core.env,
    dir: files.dir,
    log: files.log,
    rotateBytes: LOG_ROTATE_BYTES,
    alreadyRunningExit: ALREADY_RUNNING_EXIT,
    isUp: () => runningSchedulerPid(files) !== null,
    timeoutMs: START_TIMEOUT_MS,
  });
  return runningSchedulerPid(files);
}

/** Tells a running scheduler to look at the schedules now; starts one if none runs and one is needed. */
async function nudgeScheduler(core: ScheduleCore): Promise<number | null> {
  const pid = runningSchedulerPid(schedulerFiles(runtimeRoot(core.env), core.library.home));
  if (pid !== null) {
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      // It ended meanwhile: started again below.
    }
  }
  return ensureScheduler(core);
}

export async function scheduleStatus(core: ScheduleCore, ref: string): Promise<ScheduleStatus> {
  const machine = await core.library.find(ref);
  const stored = readSchedule(machine.dir);
  const state = readScheduleState(machine.dir);
  const schedulerPid = await ensureScheduler(core);
  const cron = stored ? cronOf(stored.settings) : null;
  const next =
    stored && cron
      ? nextRun(cron, new Date(stored.setAt), state.lastSlot ? new Date(state.lastSlot) : null, new Date(), slotOptions(core.env))
      : null;
  return {
    machine: { uuid: machine.uuid, name: machine.config.name },
    schedule: stored ? { ...stored.settings, setAt: stored.setAt } : null,
    cron,
    describe: stored ? describeSchedule(stored.settings) : 'no schedule',
    nextRun: next ? next.toISOString() : null,
    lastRun: state.lastRun,
    schedulerPid,
  };
}

/** Sets (or, with null, removes) a machine's schedule; bad input changes nothing. */
export async function setSchedule(core: ScheduleCore, ref: string, input: ScheduleInput | null): Promise<ScheduleStatus> {
  const machine = await core.library.find(ref);
  if (input === null) {
    await writeSchedule(machine.dir, null);
    await nudgeScheduler(core);
    return scheduleStatus(core, machine.uuid);
  }
  const settings = parseInput(scheduleInputSchema, input, 'schedule');
  checkCron(cronOf(settings), slotOptions(core.env));
  // A machine whose disks cannot be snapshotted would fail every run: said now instead.
  snapshotDisks(machine.config);
  await writeSchedule(machine.dir, { version: 1, settings, setAt: new Date().toISOString() });
  await nudgeScheduler(core);
  return scheduleStatus(core, machine.uuid);
}
