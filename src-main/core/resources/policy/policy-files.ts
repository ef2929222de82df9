/**
 * The host memory policy's files: its settings in the library home (memory-policy.json: on/off and
 * the target), and in <runtime root>/policy/ its pid (a lock: one policy per runtime root), its log
 * (one line per decision) and its state (what it saw and did last, and the ceilings it must give
 * back, so that a restarted policy re-adopts the machines a killed one had squeezed).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError } from '../../../api/errors.js';
import { DEFAULT_POLICY_TARGET_PERCENT } from '../../../api/resources.js';
import { writeJsonAtomic } from '../../fs/atomic-file.js';
import { lockHolderPid } from '../../fs/lock-file.js';
import { MEMORY_POLICY_FILE, POLICY_DIR } from '../../paths.js';

/** Exit status of a policy process that found another one already running for its runtime root. */
export const ALREADY_RUNNING_EXIT = 75;
/** Decisions kept in state.json (the log keeps them all). */
export const KEPT_DECISIONS = 50;

export const policySettingsSchema = z
  .object({
    enabled: z.boolean(),
    targetPercent: z.int().min(1).max(99),
  })
  .strict();
export type PolicySettings = z.infer<typeof policySettingsSchema>;

/** VMDesk's default: off (see README: a machine keeps the memory it was given until the user opts in). */
export const DEFAULT_POLICY_SETTINGS: PolicySettings = { enabled: false, targetPercent: DEFAULT_POLICY_TARGET_PERCENT };

export interface PolicyFiles {
  dir: string;
  pid: string;
  log: string;
  state: string;
}

export function policyFiles(runtimeRoot: string): PolicyFiles {
  const dir = path.join(runtimeRoot, POLICY_DIR);
  return { dir, pid: path.join(dir, 'policy.pid'), log: path.join(dir, 'policy.log'), state: path.join(dir, 'state.json') };
}

export function settingsFile(home: string): string {
  return path.join(home, MEMORY_POLICY_FILE);
}

/** The settings, or the defaults when none were saved; a file that is not valid is an error, not a guess. */
export function readPolicySettings(home: string): Promise<PolicySettings> {
  // The executor's throw rejects the promise.
  return new Promise((resolve) => resolve(readSettingsNow(home)));
}

function readSettingsNow(home: string): PolicySettings {
  const file = settingsFile(home);
  let text: string;
  try {
    // Read every tick by the policy: synchronously, a small file costs less than a thread-pool trip.
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_POLICY_SETTINGS };
    throw new VmdeskError('IO', `Cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = policySettingsSchema.safeParse(raw);
  if (!parsed.success)
    throw new VmdeskError('IO', `${file} is not valid memory policy settings: set them again with \`vmdesk memory-policy on|off\``, {
      file,
    });
  return parsed.data;
}

export async function writePolicySettings(home: string, settings: PolicySettings): Promise<void> {
  await fsp.mkdir(home, { recursive: true });
  await writeJsonAtomic(settingsFile(home), policySettingsSchema.parse(settings));
}

const decisionSchema = z.object({
  at: z.string(),
  uuid: z.string(),
  name: z.string(),
  fromMiB: z.number(),
  toMiB: z.number(),
  why: z.string(),
});

export const policyMachineStateSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  memoryMiB: z.number(),
  minimumMiB: z.number(),
  shares: z.number(),
  targetMiB: z.number().nullable(),
  actualMiB: z.number().nullable(),
  guestFreeMiB: z.number().nullable(),
  managed: z.boolean(),
  why: z.string(),
});

export const policyStateSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string(),
  targetPercent: z.number(),
  machines: z.array(policyMachineStateSchema),
  decisions: z.array(decisionSchema),
  /**
   * What each machine the policy squeezed had before (by uuid): the target it gives back. Valid while
   * the machine's balloon.json still says the policy set its target (a restart or the user resets it).
   */
  ceilings: z.record(z.string(), z.number().int().positive()),
});
export type PolicyState = z.infer<typeof policyStateSchema>;

export async function readPolicyState(runtimeRoot: string): Promise<PolicyState | null> {
  try {
    const parsed = policyStateSchema.safeParse(JSON.parse(await fsp.readFile(policyFiles(runtimeRoot).state, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Written every tick, so without fsync: the runtime root is usually a tmpfs, and a rename is atomic
 * against a killed writer, which is what re-adoption needs (a power cut ends the machines too).
 */
export async function writePolicyState(runtimeRoot: string, state: PolicyState): Promise<void> {
  const file = policyFiles(runtimeRoot).state;
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  await fsp.rename(tmp, file);
}

/** The running policy's pid, from its lock file (checked alive, and not a recycled pid), or null. */
export function runningPolicyPid(runtimeRoot: string): number | null {
  return lockHolderPid(policyFiles(runtimeRoot).pid);
}
