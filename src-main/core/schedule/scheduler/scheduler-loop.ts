/**
 * The scheduler's loop: read every machine's schedule, run what is due (one run per machine covers
 * every slot it missed), then sleep until the next slot — at most 30 s, so a schedule changed by a
 * core that could not signal it is seen, and at once on SIGUSR2 (sent by the core when a schedule is
 * set). It holds its pid file as a lock for its whole life (one scheduler per library; one started
 * after a killed one takes it over and finishes the run that one had begun), and ends once nothing
 * has been scheduled for a while.
 */
import fsp from 'node:fs/promises';
import { acquireLock, type LockHandle } from '../../fs/lock-file.js';
import { readScheduleState } from '../schedule-files.js';
import { cronOf, dueSlot, nextRun, type SlotOptions } from '../slots.js';
import { closeInterrupted, resumeAfterInterrupted, runSlot, type RunServices, type ScheduledMachine } from './scheduled-run.js';
import { schedulerFiles } from './scheduler-files.js';

const MAX_SLEEP_MS = 30_000;
/** A machine whose lock another VMDesk process held is tried again after this. */
const RETRY_MS = 10_000;
/** A machine starting or stopping is looked at again after this. */
const BUSY_MS = 1_000;
export const DEFAULT_IDLE_MS = 10_000;

export interface SchedulerServices extends RunServices {
  /** Every machine of the library with a schedule. */
  machines(): Promise<ScheduledMachine[]>;
  /** Starting or stopping: a snapshot waits. */
  busy(uuid: string): boolean;
}

export interface SchedulerOptions {
  home: string;
  runtimeRoot: string;
  services: SchedulerServices;
  slots: SlotOptions;
  idleMs?: number;
}

export class SchedulerRun {
  private stopReason: string | null = null;
  private wakeUp: (() => void) | null = null;
  private idleSince: number | null = null;
  private readonly retryAt = new Map<string, number>();

  private constructor(
    private readonly options: SchedulerOptions,
    private readonly lock: LockHandle,
  ) {}

  /** Fails with LOCKED when a live scheduler already runs for this library. */
  static async start(options: SchedulerOptions): Promise<SchedulerRun> {
    const files = schedulerFiles(options.runtimeRoot, options.home);
    await fsp.mkdir(files.dir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(files.pid, 'running the snapshot scheduler', 0);
    options.services.log(`snapshot scheduler started (pid ${process.pid}) for ${options.home}`);
    return new SchedulerRun(options, lock);
  }

  /** Look at the schedules again now (a schedule was set). */
  wake(): void {
    this.wakeUp?.();
  }

  stop(reason: string): void {
    this.stopReason ??= reason;
    this.wakeUp?.();
  }

  async run(): Promise<void> {
    try {
      while (this.stopReason === null) {
        const sleepMs = await this.tick().catch((err: unknown) => {
          this.options.services.log(`tick failed: ${(err as Error).message}`);
          return RETRY_MS;
        });
        if (this.stopReason !== null) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, sleepMs));
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = null;
      }
      this.options.services.log(`snapshot scheduler ends: ${this.stopReason ?? 'stopped'}`);
    } finally {
      await this.lock.release();
    }
  }

  /** Runs what is due; returns how long to sleep. */
  private async tick(): Promise<number> {
    const { services, slots } = this.options;
    const machines = await services.machines();
    if (machines.length === 0) {
      this.idleSince ??= Date.now();
      const idleMs = this.options.idleMs ?? DEFAULT_IDLE_MS;
      if (Date.now() - this.idleSince >= idleMs) this.stop('nothing is scheduled');
      return Math.min(idleMs, MAX_SLEEP_MS);
    }
    this.idleSince = null;
    let sleepMs = MAX_SLEEP_MS;
    for (const machine of machines) {
      if (this.stopReason !== null) break;
      const cron = cronOf(machine.schedule.settings);
      const setAt = new Date(machine.schedule.setAt);
      const retry = (this.retryAt.get(machine.uuid) ?? 0) - Date.now();
      if (retry > 0) {
        sleepMs = Math.min(sleepMs, retry);
        continue;
      }
      const slot = await this.slotToRun(machine, cron, setAt);
      if (slot && services.busy(machine.uuid)) sleepMs = Math.min(sleepMs, BUSY_MS);
      else if (slot && (await runSlot(services, machine, slot)) === 'retry') {
        this.retryAt.set(machine.uuid, Date.now() + RETRY_MS);
        sleepMs = Math.min(sleepMs, RETRY_MS);
      }
      const state = readScheduleState(machine.dir);
      const next = nextRun(cron, setAt, state.lastSlot ? new Date(state.lastSlot) : null, new Date(), slots);
      sleepMs = Math.min(sleepMs, next.getTime() - Date.now());
    }
    return sleepMs;
  }

  /**
   * The slot due now, or the one a killed scheduler had begun; a begun one that a newer slot
   * supersedes is closed first (the newer run covers it).
   */
  private async slotToRun(machine: ScheduledMachine, cron: string, setAt: Date): Promise<Date | null> {
    const state = readScheduleState(machine.dir);
    const due = dueSlot(cron, setAt, state.lastSlot ? new Date(state.lastSlot) : null, new Date(), this.options.slots);
    if (!state.pending) return due;
    await resumeAfterInterrupted(this.options.services, machine).catch((err: unknown) =>
      this.options.services.log(`${machine.name}: cannot resume it: ${(err as Error).message}`),
    );
    const begun = new Date(state.pending.slot);
    if (!due || due.getTime() === begun.getTime()) return begun;
    await closeInterrupted(this.options.services, machine);
    return due;
  }
}
