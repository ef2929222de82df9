/**
 * Entry point of the snapshot scheduler process: `scheduler-main RUNTIME_ROOT LIBRARY_HOME`, started
 * detached by ensureScheduler (../schedule-ops.ts) so schedules run with no window or server open,
 * as the machines, the internal-network switches and the memory policy do. It drives the machines
 * through a core of its own, so a scheduled snapshot takes the same locks and steps as any other.
 */
import { VmdeskError } from '../../../api/errors.js';
import { Core } from '../../core.js';
import { readSchedule } from '../schedule-files.js';
import { TEST_SECONDS_ENV } from '../slots.js';
import { SchedulerRun, type SchedulerServices } from './scheduler-loop.js';
import { ALREADY_RUNNING_EXIT } from './scheduler-files.js';
import type { ScheduledMachine } from './scheduled-run.js';

/** Shorter idle exit for tests (milliseconds, 100 ms to 10 minutes); unset: the default. */
function idleMs(): number | undefined {
  const value = Number(process.env.VMDESK_SCHEDULER_IDLE_MS);
  return Number.isInteger(value) && value >= 100 && value <= 600_000 ? value : undefined;
}

function servicesOf(core: Core, log: (line: string) => void): SchedulerServices {
  return {
    home: core.library.home,
    log,
    async machines() {
      const found: ScheduledMachine[] = [];
      for (const record of await core.library.list()) {
        if (!record.config) continue;
        try {
          const schedule = readSchedule(record.dir);
          if (schedule) found.push({ uuid: record.uuid, name: record.config.name, dir: record.dir, schedule });
        } catch (err) {
          log(`${record.config.name}: ${(err as Error).message}`);
        }
      }
      return found;
    },
    status: (uuid) => core.runtime.status(uuid),
    resume: (uuid) => core.resumeInterrupted(uuid),
    busy(uuid) {
      const { state } = core.runtime.status(uuid);
      return state === 'starting' || state === 'stopping';
    },
    take: (uuid, input, scheduled) => core.snapshots.take(uuid, input, scheduled).result,
    prune: (uuid, ids, ctx) => core.snapshots.prune(uuid, ids, ctx),
  };
}

async function main(): Promise<void> {
  const [runtimeRoot, home] = process.argv.slice(2);
  if (!runtimeRoot || !home) throw new Error('usage: scheduler-main RUNTIME_ROOT LIBRARY_HOME');
  process.title = 'vmdesk-scheduler';
  process.umask(0o077);
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const core = new Core({ home, env: { ...process.env, VMDESK_RUNTIME_DIR: runtimeRoot } });
  let run: SchedulerRun;
  try {
    run = await SchedulerRun.start({
      home,
      runtimeRoot,
      services: servicesOf(core, log),
      slots: { seconds: process.env[TEST_SECONDS_ENV] === '1' },
      idleMs: idleMs(),
    });
  } catch (err) {
    if (err instanceof VmdeskError && err.code === 'LOCKED') {
      log(`not started: ${err.message}`);
      process.exit(ALREADY_RUNNING_EXIT);
    }
    throw err;
  }
  process.on('SIGUSR2', () => run.wake());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => run.stop(`${signal} received`));
  await run.run();
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`vmdesk-scheduler: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
