/**
 * Page sharing: the host's KSM (/sys/kernel/mm/ksm), its figures, and each running machine's share
 * of it (/proc/PID/ksm_merging_pages, ksm_stat). KSM is host-wide: before VMDesk first changes it,
 * the host's own settings are kept in the runtime root (ksm-saved.json, gone at reboot like the
 * kernel's settings) and written back when the user turns VMDesk's control off.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { VmdeskError } from '../../api/errors.js';
import { ksmInputSchema, type KsmInput, type KsmStatus } from '../../api/resources.js';
import { parseInput } from '../../api/validation.js';
import { writeJsonAtomic } from '../fs/atomic-file.js';
import { withLock } from '../fs/lock-file.js';
import { KSM_SAVED_FILE, runtimeRoot } from '../paths.js';
import type { Core } from '../core.js';

export const KSM_SYSFS = '/sys/kernel/mm/ksm';

/**
 * A desktop's rate when the user gives none: 300 pages every 20 ms. ksmd scans without pause for as
 * long as guests offer memory, so this is a cost paid all the time, not once. Measured on a 2-core
 * host under load (kernel 6.18): the kernel's default 100/20 scanned 3,800 pages/s for 0.5 % of a
 * core; 300/20 scanned 10,600 pages/s (41 MiB/s) for 3.6 %; 1000/20 27,600 pages/s for 6.5 %. At
 * 300/20, 4 GiB of guests are scanned in under two minutes (a page merges on its second scan).
 */
export const DEFAULT_PAGES_TO_SCAN = 300;
export const DEFAULT_SLEEP_MS = 20;

/** The settings VMDesk writes, in the order it writes them when turning KSM on (run last: scanning starts at the new rate). */
const SETTINGS = ['advisor_mode', 'pages_to_scan', 'sleep_millisecs', 'run'] as const;
type Setting = (typeof SETTINGS)[number];
type Settings = Partial<Record<Setting, string>>;

const savedSchema = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  settings: z.object({
    run: z.string().regex(/^[0-2]$/),
    pages_to_scan: z.string().regex(/^\d{1,10}$/),
    sleep_millisecs: z.string().regex(/^\d{1,10}$/),
    advisor_mode: z
      .string()
      .regex(/^[\w-]{1,32}$/)
      .optional(),
  }),
});
type Saved = z.infer<typeof savedSchema>;

/** Where KSM lives and where its saved settings go (the real host's by default; a test's folder otherwise). */
export interface KsmPlaces {
  sysfs: string;
  savedFile: string;
}

export function ksmPlaces(env: NodeJS.ProcessEnv): KsmPlaces {
  // VMDESK_KSM_SYSFS: another folder laid out like it (the fuzz tests point it at nothing, so no
  // fuzzed call can turn the host's KSM on).
  const sysfs = env.VMDESK_KSM_SYSFS && path.isAbsolute(env.VMDESK_KSM_SYSFS) ? env.VMDESK_KSM_SYSFS : KSM_SYSFS;
  return { sysfs, savedFile: path.join(runtimeRoot(env), KSM_SAVED_FILE) };
}

// ---- reading ------------------------------------------------------------------------------------

/** A sysfs value as the kernel shows it; advisor_mode's "[none] scan-time" becomes the chosen word. */
export function parseSysfsValue(name: string, text: string): string {
  const trimmed = text.trim();
  if (name === 'advisor_mode') return /\[([\w-]+)\]/.exec(trimmed)?.[1] ?? trimmed;
  return trimmed;
}

async function readSetting(sysfs: string, name: string): Promise<string | null> {
  const text = await fs.readFile(path.join(sysfs, name), 'utf8').catch(() => null);
  return text === null ? null : parseSysfsValue(name, text);
}

async function readNumber(sysfs: string, name: string): Promise<number | null> {
  const text = await readSetting(sysfs, name);
  const n = text === null || text === '' ? NaN : Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

async function readSettings(sysfs: string): Promise<Settings> {
  const settings: Settings = {};
  for (const name of SETTINGS) {
    const value = await readSetting(sysfs, name);
    if (value !== null) settings[name] = value;
  }
  return settings;
}

/** `key value` lines of /proc/PID/ksm_stat (Linux 6.1+; more keys in later kernels). */
export function parseKsmStat(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\s+(-?\d+)\s*$/.exec(line.trim());
    if (m?.[1] && m[2]) values.set(m[1], Number(m[2]));
  }
  return values;
}

/** One process's pages merged by KSM and its profit in bytes; null where the kernel does not say. */
export async function processKsm(pid: number, proc = '/proc'): Promise<{ mergingPages: number | null; profitBytes: number | null }> {
  const merging = await fs.readFile(path.join(proc, String(pid), 'ksm_merging_pages'), 'utf8').catch(() => null);
  const stat = await fs.readFile(path.join(proc, String(pid), 'ksm_stat'), 'utf8').catch(() => null);
  const fields = stat === null ? new Map<string, number>() : parseKsmStat(stat);
  const direct = merging === null ? NaN : Number(merging.trim());
  return {
    mergingPages: Number.isSafeInteger(direct) && direct >= 0 ? direct : (fields.get('ksm_merging_pages') ?? null),
    profitBytes: fields.get('ksm_process_profit') ?? null,
  };
}

/** The `-machine` option of a QEMU command line (NUL-separated) says mem-merge=off; QEMU's default is on. */
export function memMergeFromCmdline(cmdline: string): boolean | null {
  const args = cmdline.split('\0');
  const i = args.indexOf('-machine');
  const value = i < 0 ? undefined : args[i + 1];
  if (value === undefined) return null;
  const m = /(?:^|,)mem-merge=(on|off|true|false|yes|no)(?:,|$)/.exec(value);
  return m ? m[1] === 'on' || m[1] === 'true' || m[1] === 'yes' : true;
}

let pageSizeCache: number | null = null;

/** The kernel's page size, from the first mapping of this process (no shell, no child process). */
export async function pageSize(): Promise<number> {
  if (pageSizeCache !== null) return pageSizeCache;
  let size = 4096;
  const handle = await fs.open('/proc/self/smaps', 'r').catch(() => null);
  if (handle) {
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(8192), 0, 8192, 0);
      const m = /^KernelPageSize:\s+(\d+) kB$/m.exec(buffer.toString('utf8', 0, bytesRead));
      if (m) size = Number(m[1]) * 1024;
    } finally {
      await handle.close();
    }
  }
  pageSizeCache = size;
  return size;
}

async function writable(file: string): Promise<boolean> {
  return fs.access(file, fs.constants.W_OK).then(
    () => true,
    () => false,
  );
}

/** The commands a user with sudo runs to do what VMDesk could not. */
export function sudoCommand(sysfs: string, writes: ReadonlyArray<[Setting, string]>): string {
  return writes.map(([name, value]) => `echo ${value} | sudo tee ${path.join(sysfs, name)}`).join(' && ');
}

async function readSaved(savedFile: string): Promise<Saved | null> {
  const text = await fs.readFile(savedFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = null;
  }
  const parsed = savedSchema.safeParse(raw);
  if (!parsed.success)
    throw new VmdeskError(
      'INVALID_STATE',
      `${savedFile} (the host's KSM settings from before VMDesk) is damaged: set KSM by hand under ${KSM_SYSFS}, then remove that file`,
    );
  return parsed.data;
}

export async function readKsmStatus(places: KsmPlaces, machines: KsmStatus['machines'] = []): Promise<KsmStatus> {
  const size = await pageSize();
  const run = await readNumber(places.sysfs, 'run');
  if (run === null) {
    return {
      available: false,
      running: false,
      controlledByVmdesk: false,
      writable: false,
      pagesToScan: null,
      sleepMs: null,
      pagesShared: null,
      pagesSharing: null,
      zeroPages: null,
      savedBytes: null,
      generalProfitBytes: null,
      pageSize: size,
      machines,
    };
  }
  const [pagesToScan, sleepMs, pagesShared, pagesSharing, zeroPages, generalProfit] = await Promise.all([
    readNumber(places.sysfs, 'pages_to_scan'),
    readNumber(places.sysfs, 'sleep_millisecs'),
    readNumber(places.sysfs, 'pages_shared'),
    readNumber(places.sysfs, 'pages_sharing'),
    readNumber(places.sysfs, 'ksm_zero_pages'),
    readNumber(places.sysfs, 'general_profit'),
  ]);
  const canWrite = await writable(path.join(places.sysfs, 'run'));
  const status: KsmStatus = {
    available: true,
    running: run === 1,
    controlledByVmdesk: await fs.access(places.savedFile).then(
      () => true,
      () => false,
    ),
    writable: canWrite,
    pagesToScan,
    sleepMs,
    pagesShared,
    pagesSharing,
    zeroPages,
    savedBytes: pagesSharing === null ? null : (pagesSharing + (zeroPages ?? 0)) * size,
    generalProfitBytes: generalProfit,
    pageSize: size,
    machines,
  };
  if (!canWrite)
    status.command =
      run === 1
        ? sudoCommand(places.sysfs, [['run', '0']])
        : sudoCommand(places.sysfs, [
            ['pages_to_scan', String(DEFAULT_PAGES_TO_SCAN)],
            ['run', '1'],
          ]);
  return status;
}

/** The running machines of this library, with what their QEMU offers to KSM and what it merged. */
async function machineFigures(core: Core): Promise<KsmStatus['machines']> {
  const figures: KsmStatus['machines'] = [];
  for (const m of await core.list()) {
    const pid = m.status.qemuPid;
    if (!m.config || pid === undefined || !core.runtime.isActive(m.status.state)) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
    const pageSharing = (cmdline === null ? null : memMergeFromCmdline(cmdline)) ?? m.config.resources.pageSharing;
    figures.push({ uuid: m.uuid, name: m.config.name, pageSharing, ...(await processKsm(pid)) });
  }
  return figures;
}

// ---- changing -----------------------------------------------------------------------------------

/** Which writes turn KSM on or off from `current`; values already in place are not written again. */
export function planKsm(current: Settings, input: z.infer<typeof ksmInputSchema>, saved: Saved | null): Array<[Setting, string]> {
  const wanted: Settings = {};
  if (input.enabled) {
    // The kernel refuses pages_to_scan while its advisor tunes it: VMDesk sets the rate, so the advisor goes off.
    if (current.advisor_mode !== undefined) wanted.advisor_mode = 'none';
    wanted.pages_to_scan = String(input.pagesToScan ?? (saved ? current.pages_to_scan : undefined) ?? DEFAULT_PAGES_TO_SCAN);
    wanted.sleep_millisecs = String(input.sleepMs ?? (saved ? current.sleep_millisecs : undefined) ?? DEFAULT_SLEEP_MS);
    wanted.run = '1';
  } else if (saved) {
    // Back as they were: the rate before the advisor (which may then retune it), run first so scanning stops at once.
    wanted.run = saved.settings.run;
    wanted.pages_to_scan = saved.settings.pages_to_scan;
    wanted.sleep_millisecs = saved.settings.sleep_millisecs;
    if (saved.settings.advisor_mode !== undefined) wanted.advisor_mode = saved.settings.advisor_mode;
  } else {
    // Off without VMDesk's control: scanning stops; merged pages stay merged (run=2 would unmerge them all at once).
    wanted.run = '0';
  }
  const order: readonly Setting[] = input.enabled ? SETTINGS : ['run', 'pages_to_scan', 'sleep_millisecs', 'advisor_mode'];
  return order.flatMap((name): Array<[Setting, string]> => {
    const value = wanted[name];
    return value !== undefined && value !== current[name] ? [[name, value]] : [];
  });
}

/** Write each value in turn; on a failure, put back what was written (newest first) and say what happened. */
async function applyWrites(sysfs: string, current: Settings, writes: ReadonlyArray<[Setting, string]>): Promise<void> {
  const done: Array<[Setting, string]> = [];
  for (const [name, value] of writes) {
    try {
      await fs.writeFile(path.join(sysfs, name), value);
      done.push([name, current[name] ?? '']);
    } catch (err) {
      const failedBack: string[] = [];
      for (const [back, previous] of done.reverse()) {
        await fs.writeFile(path.join(sysfs, back), previous).catch(() => failedBack.push(`${back}=${previous}`));
      }
      const why = err instanceof Error ? err.message : String(err);
      throw new VmdeskError(
        'IO',
        `Could not set KSM's ${name} to ${value} (${why}); ` +
          (failedBack.length === 0
            ? 'what was already changed is back as it was'
            : `and could not put back ${failedBack.join(', ')}: set ${failedBack.length === 1 ? 'it' : 'them'} under ${sysfs} by hand`),
      );
    }
  }
}

export async function changeKsm(places: KsmPlaces, rawInput: KsmInput): Promise<void> {
  const input = parseInput(ksmInputSchema, rawInput, 'page sharing settings');
  if (!input.enabled && (input.pagesToScan !== undefined || input.sleepMs !== undefined))
    throw new VmdeskError('INVALID_INPUT', 'A scan rate (pages to scan, sleep) goes with turning page sharing on, not off');
  if ((await readNumber(places.sysfs, 'run')) === null)
    throw new VmdeskError('HOST_UNSUPPORTED', `This kernel has no KSM (${places.sysfs} is missing): page sharing is unavailable`);
  const plan = async (): Promise<{ current: Settings; saved: Saved | null; writes: Array<[Setting, string]> }> => {
    const current = await readSettings(places.sysfs);
    const saved = await readSaved(places.savedFile);
    const writes = planKsm(current, input, saved);
    for (const [name] of writes)
      if (!(await writable(path.join(places.sysfs, name)))) {
        const command = sudoCommand(places.sysfs, writes);
        throw new VmdeskError('HOST_UNSUPPORTED', `Changing KSM needs root (nothing was changed): run \`${command}\``, { command });
      }
    return { current, saved, writes };
  };
  // Refused before anything is made, not even the runtime folder; planned again under the lock.
  await plan();
  await fs.mkdir(path.dirname(places.savedFile), { recursive: true, mode: 0o700 });
  await withLock(`${places.savedFile}.lock`, 'changing page sharing', async () => {
    const { current, saved, writes } = await plan();
    // The host's settings are on disk before the first of them changes, so a crash can always restore them.
    const takingControl = input.enabled && saved === null;
    if (takingControl) {
      const { run, pages_to_scan, sleep_millisecs, advisor_mode } = current;
      const parsed = savedSchema.shape.settings.safeParse({ run, pages_to_scan, sleep_millisecs, advisor_mode });
      if (!parsed.success)
        throw new VmdeskError('HOST_UNSUPPORTED', `KSM's settings under ${places.sysfs} are not what VMDesk knows: nothing was changed`);
      const settings = parsed.data;
      await writeJsonAtomic(places.savedFile, { version: 1, savedAt: new Date().toISOString(), settings } satisfies Saved);
    }
    try {
      await applyWrites(places.sysfs, current, writes);
    } catch (err) {
      if (takingControl) await fs.rm(places.savedFile, { force: true });
      throw err;
    }
    if (!input.enabled && saved) await fs.rm(places.savedFile, { force: true });
  });
}

export async function ksmStatus(core: Core): Promise<KsmStatus> {
  return readKsmStatus(ksmPlaces(core.env), await machineFigures(core));
}

export async function setKsm(core: Core, input: KsmInput): Promise<KsmStatus> {
  await changeKsm(ksmPlaces(core.env), input);
  return ksmStatus(core);
}
