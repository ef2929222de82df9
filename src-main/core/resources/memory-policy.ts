/**
 * The host memory policy (automatic overcommit), the core's side: its settings (memory-policy.json
 * in the library home), its status, and its process — started detached (policy/policy-main.ts), like
 * an internal network's switch, so it works with no window open; one per runtime root. Any status
 * call, machine start or `vmdesk memory-policy` while it is on starts it again if it was killed, and
 * the new one re-adopts what the old one had squeezed. Turned off, it gives every machine back what
 * it took before it ends (or the core does, when the process was already gone).
 */
import fsp from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';
import {
  DEFAULT_POLICY_TARGET_PERCENT,
  memoryPolicyInputSchema,
  type MemoryPolicyInput,
  type MemoryPolicyStatus,
} from '../../api/resources.js';
import { parseInput } from '../../api/validation.js';
import type { Core } from '../core.js';
import { helperEntry, startDetached } from '../fs/detached-helper.js';
import { acquireLock } from '../fs/lock-file.js';
import { runtimeRoot } from '../paths.js';
import { AgentPool, hostMemory, observeMachines, runningMachineDirs, type MachineView } from './policy/observe.js';
import {
  ALREADY_RUNNING_EXIT,
  policyFiles,
  readPolicySettings,
  readPolicyState,
  runningPolicyPid,
  settingsFile,
  writePolicySettings,
  writePolicyState,
  type PolicySettings,
} from './policy/policy-files.js';
import { giveBack, stateOf } from './policy/policy-loop.js';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000;
/** A policy log past this size is moved to .log.old when the next policy process starts. */
const LOG_ROTATE_BYTES = 1024 * 1024;

/** The policy's program: the bundle of the package this module belongs to (like the switch's). */
export function policyEntry(): string {
  return helperEntry('policy.cjs', 'vmdesk-policy.cjs', 'The host memory policy');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the policy process unless one runs (or no machine runs: a start brings it); resolves once
 * it has looked at the machines once, so a status right after shows what it sees.
 */
export async function ensurePolicyWith(
  entry: string,
  home: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = START_TIMEOUT_MS,
): Promise<number | null> {
  const root = runtimeRoot(env);
  const running = runningPolicyPid(root);
  if (running !== null) return running;
  if (runningMachineDirs(root).length === 0) return null;
  const files = policyFiles(root);
  let up: number | null = null;
  await startDetached({
    what: 'The host memory policy',
    entry,
    args: [root, home],
    env,
    dir: files.dir,
    log: files.log,
    rotateBytes: LOG_ROTATE_BYTES,
    alreadyRunningExit: ALREADY_RUNNING_EXIT,
    isUp: async () => {
      const pid = runningPolicyPid(root);
      up = pid !== null && (await readPolicyState(root))?.pid === pid ? pid : null;
      return up !== null;
    },
    timeoutMs,
  });
  return up;
}

/** When the policy is on, make sure its process runs (started detached, like an internal network's switch). */
export async function ensureMemoryPolicy(core: Core): Promise<void> {
  const settings = await readPolicySettings(core.library.home);
  if (settings.enabled) await ensurePolicyWith(policyEntry(), core.library.home, core.env);
}

/**
 * Ends the policy process (it gives back what it took), then gives back whatever is still squeezed:
 * a killed policy could not. Holds the policy's lock meanwhile, so no new policy starts halfway.
 */
async function stopPolicy(root: string): Promise<void> {
  const pid = runningPolicyPid(root);
  if (pid !== null) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (runningPolicyPid(root) === pid) {
      if (Date.now() > deadline)
        throw new VmdeskError(
          'TIMEOUT',
          `The host memory policy (pid ${pid}) did not end within ${STOP_TIMEOUT_MS / 1000} s; see ${policyFiles(root).log}`,
        );
      await sleep(50);
    }
  }
  const files = policyFiles(root);
  await fsp.mkdir(files.dir, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(files.pid, 'giving back the memory the host memory policy took', 10_000);
  const pool = new AgentPool();
  try {
    const state = await readPolicyState(root);
    const memory = { ceilings: { ...(state?.ceilings ?? {}) }, decisions: [...(state?.decisions ?? [])] };
    const lines: string[] = [];
    const views = await giveBack(root, pool, memory, 'given back: the policy was turned off', (l) =>
      lines.push(`${new Date().toISOString()} ${l}`),
    );
    if (lines.length > 0) await fsp.appendFile(files.log, `${lines.join('\n')}\n`, { mode: 0o600 });
    await writePolicyState(root, stateOf(views, memory, state?.targetPercent ?? 0, state?.startedAt ?? new Date().toISOString()));
  } finally {
    pool.closeAll();
    await lock.release();
  }
}

function fromView(v: MachineView, policyOn: boolean): MemoryPolicyStatus['machines'][number] {
  return {
    uuid: v.uuid,
    name: v.name,
    memoryMiB: v.memoryMiB,
    minimumMiB: v.minimumMiB,
    shares: v.shares,
    targetMiB: v.balloon?.targetMiB ?? v.actualMiB,
    actualMiB: v.actualMiB,
    guestFreeMiB: v.guest?.freeMiB ?? null,
    managed: v.managed,
    why: v.managed ? (policyOn ? 'the policy has not looked at it yet' : 'the policy is off') : v.why,
  };
}

async function statusOf(home: string, env: NodeJS.ProcessEnv, settings: PolicySettings): Promise<MemoryPolicyStatus> {
  const root = runtimeRoot(env);
  const [host, state] = await Promise.all([hostMemory(), readPolicyState(root)]);
  const pid = runningPolicyPid(root);
  let machines: MemoryPolicyStatus['machines'];
  // The running policy's own view when it wrote it; otherwise a look now.
  if (pid !== null && state?.pid === pid) machines = state.machines;
  else {
    const pool = new AgentPool();
    try {
      machines = (await observeMachines(root, pool)).map((v) => fromView(v, settings.enabled));
    } finally {
      pool.closeAll();
    }
  }
  const usedMiB = host.totalMiB - host.availableMiB;
  return {
    enabled: settings.enabled,
    targetPercent: settings.targetPercent,
    pid,
    hostTotalMiB: host.totalMiB,
    hostUsedMiB: usedMiB,
    usedPercent: Math.round((1000 * usedMiB) / host.totalMiB) / 10,
    machines,
    decisions: state?.decisions ?? [],
  };
}

export async function memoryPolicyStatus(core: Core): Promise<MemoryPolicyStatus> {
  const home = core.library.home;
  const settings = await readPolicySettings(home);
  if (settings.enabled) await ensurePolicyWith(policyEntry(), home, core.env);
  return statusOf(home, core.env, settings);
}

export async function setMemoryPolicy(core: Core, input: MemoryPolicyInput): Promise<MemoryPolicyStatus> {
  const wanted = parseInput(memoryPolicyInputSchema, input, 'memory policy settings');
  const home = core.library.home;
  const previous = await readPolicySettings(home).catch(() => null);
  const next: PolicySettings = {
    enabled: wanted.enabled,
    targetPercent: wanted.targetPercent ?? previous?.targetPercent ?? DEFAULT_POLICY_TARGET_PERCENT,
  };
  const entry = next.enabled ? policyEntry() : null;
  await writePolicySettings(home, next);
  if (entry) {
    // A policy that cannot start leaves the settings as they were: on means running.
    await ensurePolicyWith(entry, home, core.env).catch(async (err: unknown) => {
      if (previous) await writePolicySettings(home, previous);
      else await fsp.rm(settingsFile(home), { force: true });
      throw err;
    });
  } else await stopPolicy(runtimeRoot(core.env));
  return statusOf(home, core.env, next);
}
