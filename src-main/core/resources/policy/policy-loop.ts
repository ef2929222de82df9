/**
 * The host memory policy's work, tick by tick: look (observe.ts), decide (decide.ts), set the
 * balloons' targets, record each decision (balloon.json of the machine, the policy's log and
 * state.json). It holds <runtime root>/policy/policy.pid as a lock for its whole life, so one policy
 * runs per runtime root; one started after a killed one takes the lock over and re-adopts what it
 * had squeezed (the targets balloon.json says the policy set, the ceilings in state.json).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { PolicyDecision as StoredDecision } from '../../../api/resources.js';
import { acquireLock, type LockHandle } from '../../fs/lock-file.js';
import { RUNTIME } from '../../paths.js';
import { setBalloonTarget } from '../balloon-qmp.js';
import { writeBalloonState } from '../balloon-state.js';
import { HYSTERESIS_PERCENT, decide, giveAllBack, type PolicyDecision, type PolicyMachine } from './decide.js';
import { AgentPool, hostMemory, observeMachines, readBalloonStateNow, type MachineView } from './observe.js';
import { KEPT_DECISIONS, policyFiles, readPolicySettings, readPolicyState, writePolicyState, type PolicyState } from './policy-files.js';
import { WakeableDelay } from '../../wakeable-delay.js';

export const DEFAULT_INTERVAL_MS = 2_000;
/** How long a quiet tick reuses the guests' statistics. */
const QUIET_STATS_MS = 10_000;
/** With no running machine for this long, the policy exits (a machine's start brings it back). */
export const DEFAULT_IDLE_MS = 30_000;
/** state.json is rewritten at least this often while nothing but the guests' free memory changes. */
const STATE_REFRESH_MS = 10_000;

export interface PolicyRunOptions {
  runtimeRoot: string;
  home: string;
  intervalMs?: number;
  idleMs?: number;
  log: (line: string) => void;
}

/** What the policy remembers between ticks and across a restart. */
export interface PolicyMemory {
  ceilings: Record<string, number>;
  decisions: StoredDecision[];
}

/** The machine as the decision sees it; null when its balloon cannot be used at all. */
export function policyMachine(view: MachineView, ceilings: Record<string, number>): PolicyMachine | null {
  if (view.actualMiB === null) return null;
  const own = view.balloon?.setBy === 'policy';
  const ceiling = own ? (ceilings[view.uuid] ?? view.memoryMiB) : (view.balloon?.targetMiB ?? view.memoryMiB);
  return {
    uuid: view.uuid,
    name: view.name,
    memoryMiB: view.memoryMiB,
    minimumMiB: view.minimumMiB,
    shares: view.shares,
    ceilingMiB: Math.min(ceiling, view.memoryMiB),
    // No record (a guest migrated in with its balloon, say): its size now is the target it was given.
    targetMiB: view.balloon?.targetMiB ?? view.actualMiB,
    actualMiB: view.actualMiB,
    guest: { totalMiB: view.guest?.totalMiB ?? null, availableMiB: view.guest?.availableMiB ?? null, freeMiB: view.guest?.freeMiB ?? null },
    ownTarget: own,
  };
}

/**
 * Set one balloon target and record it. Skipped (false) when balloon.json changed since the look:
 * the user has just set a target, which wins.
 */
async function apply(view: MachineView, decision: PolicyDecision, pool: AgentPool, memory: PolicyMemory): Promise<boolean> {
  const now = readBalloonStateNow(view.runtimeDir);
  if ((now?.at ?? null) !== (view.balloon?.at ?? null)) return false;
  const client = await pool.client(view.uuid, path.join(view.runtimeDir, RUNTIME.agent));
  await setBalloonTarget(client, decision.toMiB);
  await writeBalloonState(view.runtimeDir, { targetMiB: decision.toMiB, setBy: 'policy', why: decision.why.slice(0, 500) });
  memory.decisions.push({ at: new Date().toISOString(), ...decision });
  memory.decisions.splice(0, Math.max(0, memory.decisions.length - KEPT_DECISIONS));
  return true;
}

function describe(d: PolicyDecision): string {
  return `${d.name}: ${d.fromMiB} -> ${d.toMiB} MiB: ${d.why}`;
}

/**
 * Every machine gets back what the policy took (turned off, or the policy ends). Used by the policy
 * process before it exits, and by the core when it turns off a policy whose process was killed.
 */
export async function giveBack(
  runtimeRoot: string,
  pool: AgentPool,
  memory: PolicyMemory,
  why: string,
  log: (line: string) => void,
): Promise<MachineView[]> {
  const views = await observeMachines(runtimeRoot, pool);
  const machines = views.map((v) => policyMachine(v, memory.ceilings)).filter((m): m is PolicyMachine => m !== null);
  for (const decision of giveAllBack(machines, why)) {
    const view = views.find((v) => v.uuid === decision.uuid);
    if (!view) continue;
    const done = await apply(view, decision, pool, memory).catch((err: unknown) => {
      log(`${decision.name}: could not give back ${decision.toMiB - decision.fromMiB} MiB: ${(err as Error).message}`);
      return false;
    });
    if (done) {
      log(describe(decision));
      view.balloon = { targetMiB: decision.toMiB, setBy: 'policy', at: new Date().toISOString(), why };
    }
  }
  return views;
}

export function stateOf(
  views: readonly MachineView[],
  memory: PolicyMemory,
  targetPercent: number,
  startedAt: string,
  notes: ReadonlyMap<string, string> = new Map(),
): PolicyState {
  const running = new Set(views.map((v) => v.uuid));
  const ceilings = Object.fromEntries(Object.entries(memory.ceilings).filter(([uuid]) => running.has(uuid)));
  return {
    pid: process.pid,
    startedAt,
    updatedAt: new Date().toISOString(),
    targetPercent,
    machines: views.map((v) => ({
      uuid: v.uuid,
      name: v.name,
      memoryMiB: v.memoryMiB,
      minimumMiB: v.minimumMiB,
      shares: v.shares,
      targetMiB: v.balloon?.targetMiB ?? v.actualMiB,
      actualMiB: v.actualMiB,
      guestFreeMiB: v.guest?.freeMiB ?? null,
      managed: v.managed,
      why: v.managed ? (notes.get(v.uuid) ?? v.balloon?.why ?? '') : v.why,
    })),
    decisions: memory.decisions,
    ceilings,
  };
}

export class MemoryPolicyRun {
  private readonly pool = new AgentPool();
  private readonly startedAt = new Date().toISOString();
  private stopReason: string | null = null;
  private readonly delay = new WakeableDelay();
  private idleSince: number | null = null;
  private targetPercent = 0;
  private firstTick = true;
  /** Some machine was below its ceiling at the last tick (memory to give back: not quiet). */
  private squeezed = true;
  private written = { key: '', at: 0 };

  private constructor(
    private readonly options: PolicyRunOptions,
    private readonly lock: LockHandle,
    private readonly memory: PolicyMemory,
  ) {}

  /** Fails with LOCKED when a live policy already runs for this runtime root. */
  static async start(options: PolicyRunOptions): Promise<MemoryPolicyRun> {
    const files = policyFiles(options.runtimeRoot);
    await fsp.mkdir(files.dir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(files.pid, 'running the host memory policy', 0);
    const previous = await readPolicyState(options.runtimeRoot);
    const memory: PolicyMemory = { ceilings: previous?.ceilings ?? {}, decisions: previous?.decisions ?? [] };
    const run = new MemoryPolicyRun(options, lock, memory);
    run.log(`host memory policy started (pid ${process.pid})${previous ? `, after pid ${previous.pid}` : ''}`);
    return run;
  }

  private log(line: string): void {
    this.options.log(`${new Date().toISOString()} ${line}`);
  }

  /** Ends the policy at its next tick; what it took is given back first. */
  stop(reason: string): void {
    this.stopReason ??= reason;
    this.delay.wake();
  }

  /** Runs until turned off, stopped, or idle; gives everything back, releases the lock. */
  async run(): Promise<void> {
    try {
      for (;;) {
        if (this.stopReason !== null) break;
        const settings = await readPolicySettings(this.options.home).catch((err: unknown) => {
          this.stop(`settings unreadable: ${(err as Error).message}`);
          return null;
        });
        if (!settings) break;
        if (!settings.enabled) {
          this.stop('the policy was turned off');
          break;
        }
        this.targetPercent = settings.targetPercent;
        await this.tick(settings.targetPercent).catch((err: unknown) => this.log(`tick failed: ${(err as Error).message}`));
        if (this.stopReason !== null) break;
        await this.delay.wait(this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
      }
      // A core turning the policy off ends it with SIGTERM right after saving the settings.
      const turnedOff = await readPolicySettings(this.options.home).then(
        (s) => !s.enabled,
        () => false,
      );
      const reason = turnedOff ? 'the policy was turned off' : (this.stopReason ?? 'stopped');
      const views = await giveBack(this.options.runtimeRoot, this.pool, this.memory, `given back: ${reason}`, (l) => this.log(l));
      await writePolicyState(this.options.runtimeRoot, stateOf(views, this.memory, this.targetPercent, this.startedAt));
      this.log(`host memory policy ends: ${reason}`);
    } finally {
      this.pool.closeAll();
      await this.lock.release();
    }
  }

  private async tick(targetPercent: number): Promise<void> {
    // Quiet: the host well under its target and nothing squeezed — nothing to decide, so the guests'
    // statistics (only needed to weigh a shrink) are reused for up to 10 s instead of asked each tick.
    const host = await hostMemory();
    const usedPercent = (100 * (host.totalMiB - host.availableMiB)) / host.totalMiB;
    const quiet = usedPercent < targetPercent - HYSTERESIS_PERCENT && !this.squeezed;
    const views = await observeMachines(this.options.runtimeRoot, this.pool, quiet ? QUIET_STATS_MS : 0);
    if (views.length === 0) {
      this.idleSince ??= Date.now();
      if (Date.now() - this.idleSince >= (this.options.idleMs ?? DEFAULT_IDLE_MS)) this.stop('no running machines');
    } else this.idleSince = null;

    const machines: PolicyMachine[] = [];
    for (const view of views) {
      const m = view.managed ? policyMachine(view, this.memory.ceilings) : null;
      if (!m) continue;
      // What a machine had before the policy first touches it: the target it gives back.
      if (!m.ownTarget) this.memory.ceilings[m.uuid] = m.ceilingMiB;
      machines.push(m);
    }
    if (this.firstTick) {
      this.firstTick = false;
      const squeezed = machines.filter((m) => m.ownTarget && m.targetMiB < m.ceilingMiB);
      if (squeezed.length > 0)
        this.log(
          `re-adopted what a previous policy took: ${squeezed.map((m) => `${m.name} at ${m.targetMiB} of ${m.ceilingMiB} MiB`).join(', ')}`,
        );
    }
    const outcome = decide(host, targetPercent, machines);
    this.squeezed = machines.some((m) => m.targetMiB < m.ceilingMiB);
    const notes = new Map(outcome.notes);
    for (const decision of outcome.decisions) {
      const view = views.find((v) => v.uuid === decision.uuid);
      if (!view) continue;
      const done = await apply(view, decision, this.pool, this.memory).catch((err: unknown) => {
        this.log(`${decision.name}: could not set ${decision.toMiB} MiB: ${(err as Error).message}`);
        return false;
      });
      if (!done) continue;
      this.log(describe(decision));
      view.balloon = { targetMiB: decision.toMiB, setBy: 'policy', at: new Date().toISOString(), why: decision.why };
      notes.set(view.uuid, decision.why);
    }
    await this.writeState(stateOf(views, this.memory, targetPercent, this.startedAt, notes));
  }

  /** state.json when something worth showing changed, else every few seconds (the guests' free memory moves all the time). */
  private async writeState(state: PolicyState): Promise<void> {
    const key = JSON.stringify([state.targetPercent, state.machines.map((m) => ({ ...m, guestFreeMiB: null })), state.decisions.at(-1)]);
    if (key === this.written.key && Date.now() - this.written.at < STATE_REFRESH_MS) return;
    await writePolicyState(this.options.runtimeRoot, state);
    this.written = { key, at: Date.now() };
  }
}
