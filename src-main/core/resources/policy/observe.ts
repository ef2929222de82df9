/**
 * What the host memory policy sees: /proc/meminfo, and each running machine of the runtime root —
 * found by its launch.json and live agent, its settings read from its machine.json (minimum, shares),
 * its balloon through its agent (query-balloon, the guest's statistics) and its balloon.json (who set
 * the target last). Used by the policy process every tick and by the core for a status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { effectiveMinimum, type GuestMemoryStats } from '../../../api/resources.js';
import type { MachineState } from '../../../api/machine-config.js';
import { AgentClient } from '../../agent/agent-client.js';
import { launchFileSchema, type AgentStatus } from '../../agent/protocol.js';
import { isProcessAlive } from '../../fs/lock-file.js';
import { loadMachineConfig } from '../../library/library.js';
import { MACHINE_CONFIG, RUNTIME } from '../../paths.js';
import { ensureGuestStats } from '../balloon.js';
import { balloonActualMiB, guestMemoryStats } from '../balloon-qmp.js';
import { balloonStateFile, balloonStateSchema, type BalloonState } from '../balloon-state.js';
import type { HostMemory } from './decide.js';

/** Statistics older than this mean the guest's driver has stopped answering. */
const STALE_STATS_MS = 30_000;
/** query-balloon is asked again after this long, in case a BALLOON_CHANGE event was missed. */
const BALLOON_REASK_MS = 20_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseMeminfo(text: string): HostMemory {
  const kib = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const total = kib('MemTotal');
  const available = kib('MemAvailable');
  if (total === null || total <= 0 || available === null) throw new Error('/proc/meminfo has no MemTotal or MemAvailable');
  return { totalMiB: Math.floor(total / 1024), availableMiB: Math.floor(available / 1024) };
}

// Small files are read synchronously here: a promise-based read costs several thread-pool round trips,
// which is most of what a tick of the policy costs.
export function hostMemory(): Promise<HostMemory> {
  return Promise.resolve(parseMeminfo(fs.readFileSync('/proc/meminfo', 'utf8')));
}

/**
 * The memory QEMU was started with (`-m size=NM`, or `size=NK` with TCG's few KiB more), in whole MiB;
 * the config may since have changed for the next start.
 */
export function startedMemoryMiB(args: readonly string[]): number | null {
  const i = args.indexOf('-m');
  const m = i >= 0 ? /(?:^|,)size=(\d+)([MK])(?:,|$)/.exec(args[i + 1] ?? '') : null;
  if (!m) return null;
  return m[2] === 'M' ? Number(m[1]) : Math.floor(Number(m[1]) / 1024);
}

export interface MachineView {
  uuid: string;
  name: string;
  runtimeDir: string;
  memoryMiB: number;
  minimumMiB: number;
  shares: number;
  actualMiB: number | null;
  guest: GuestMemoryStats | null;
  balloon: BalloonState | null;
  /** The balloon works: the policy may use it. */
  managed: boolean;
  /** Why it is left alone (when not managed). */
  why: string;
}

/**
 * Agent connections kept from one tick to the next (the policy process), or made for one look (a
 * status), with each machine's state as its agent announces it, and its files parsed once per change:
 * a tick of a host with ten machines must cost next to nothing.
 */
export class AgentPool {
  private readonly clients = new Map<string, AgentClient>();
  private readonly states = new Map<string, MachineState>();
  /** Machines whose guest statistics were checked on by this pool (once per connection is enough). */
  private readonly statsAsked = new Set<string>();
  private readonly files = new Map<string, { stamp: string; value: unknown }>();
  /** query-balloon's answer and when it was asked; BALLOON_CHANGE events keep it current between. */
  private readonly balloons = new Map<string, { actualMiB: number | null; askedAt: number }>();

  async client(uuid: string, socket: string): Promise<AgentClient> {
    const known = this.clients.get(uuid);
    if (known && !known.isClosed) return known;
    const client = await AgentClient.connect(socket);
    this.clients.set(uuid, client);
    this.statsAsked.delete(uuid);
    this.states.delete(uuid);
    this.balloons.delete(uuid);
    client.on('state', (status) => this.states.set(uuid, status.state));
    client.on('qmp', (name, data) => {
      const actual = (data as { actual?: unknown } | undefined)?.actual;
      const known = this.balloons.get(uuid);
      if (name === 'BALLOON_CHANGE' && typeof actual === 'number' && known)
        this.balloons.set(uuid, { ...known, actualMiB: Math.round(actual / (1024 * 1024)) });
    });
    const status = await client.request<AgentStatus>({ op: 'status' }, 5_000).catch(() => null);
    if (status && !this.states.has(uuid)) this.states.set(uuid, status.state);
    return client;
  }

  state(uuid: string): MachineState | undefined {
    return this.states.get(uuid);
  }

  /** The guest's size (null: no balloon), from the events, asked again now and then in case one was missed. */
  async balloonActual(uuid: string, client: AgentClient): Promise<number | null> {
    const known = this.balloons.get(uuid);
    if (known && Date.now() - known.askedAt < BALLOON_REASK_MS) return known.actualMiB;
    const askedAt = Date.now();
    const actualMiB = await balloonActualMiB(client);
    this.balloons.set(uuid, { actualMiB, askedAt });
    return actualMiB;
  }

  /** Turn on the guest's statistics if its QEMU has them off, once per connection. */
  async askStats(uuid: string, client: AgentClient): Promise<void> {
    if (this.statsAsked.has(uuid)) return;
    this.statsAsked.add(uuid);
    await ensureGuestStats(client).catch(() => undefined);
  }

  /** `load(file)` again only when the file's size or time changed since the last call. */
  async cached<T>(file: string, load: (file: string) => Promise<T>): Promise<T> {
    const st = fs.statSync(file);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    const known = this.files.get(file);
    if (known?.stamp === stamp) return known.value as T;
    const value = await load(file);
    this.files.set(file, { stamp, value });
    return value;
  }

  /** Connections of machines no longer running are closed. */
  keepOnly(uuids: ReadonlySet<string>): void {
    for (const [uuid, client] of this.clients)
      if (!uuids.has(uuid)) {
        client.close();
        this.clients.delete(uuid);
        this.states.delete(uuid);
        this.balloons.delete(uuid);
      }
    if (uuids.size === 0) this.files.clear();
  }

  closeAll(): void {
    this.keepOnly(new Set());
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Runtime dirs of machines whose agent is alive. */
export function runningMachineDirs(runtimeRoot: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runtimeRoot);
  } catch {
    names = [];
  }
  return names
    .filter((n) => UUID.test(n))
    .map((n) => path.join(runtimeRoot, n))
    .filter((dir) => {
      const pid = readPid(path.join(dir, RUNTIME.agentPid));
      return pid !== null && isProcessAlive(pid) && fs.existsSync(path.join(dir, RUNTIME.launch));
    });
}

/** balloon.json (see balloon-state.ts), read without the thread pool; null when absent or not valid. */
export function readBalloonStateNow(runtimeDir: string): BalloonState | null {
  try {
    const parsed = balloonStateSchema.safeParse(JSON.parse(fs.readFileSync(balloonStateFile(runtimeDir), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The guest statistics last read per machine, for ticks that may reuse them (nothing to decide). */
const lastGuestStats = new Map<string, { guest: GuestMemoryStats | null; at: number }>();

async function observeOne(dir: string, pool: AgentPool, statsMaxAgeMs: number): Promise<MachineView | null> {
  let launch;
  try {
    launch = await pool.cached(path.join(dir, RUNTIME.launch), (file) =>
      Promise.resolve(launchFileSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')))),
    );
  } catch {
    return null;
  }
  const config = await pool
    .cached(path.join(launch.machineDir, MACHINE_CONFIG), () => loadMachineConfig(launch.machineDir))
    .catch(() => null);
  const memoryMiB = startedMemoryMiB(launch.args) ?? config?.memoryMiB ?? 0;
  const view: MachineView = {
    uuid: launch.uuid,
    name: launch.name,
    runtimeDir: dir,
    memoryMiB,
    minimumMiB: config ? Math.min(memoryMiB, effectiveMinimum(memoryMiB, config.resources)) : memoryMiB,
    shares: config?.resources.memoryShares ?? 0,
    actualMiB: null,
    guest: null,
    balloon: readBalloonStateNow(dir),
    managed: false,
    why: '',
  };
  const leave = (why: string): MachineView => ({ ...view, why });
  if (!config) return leave(`its settings (${launch.machineDir}) cannot be read`);
  let client: AgentClient;
  try {
    client = await pool.client(launch.uuid, path.join(dir, RUNTIME.agent));
  } catch {
    return leave('its agent does not answer');
  }
  const state = pool.state(launch.uuid);
  if (state !== 'running') return leave(state ? `${state}: left as it is` : 'its agent does not answer');
  const actual = await pool.balloonActual(launch.uuid, client).catch(() => undefined);
  if (actual === undefined) return leave('QEMU does not answer about its balloon');
  if (actual === null) return leave('no balloon device (switched off in its settings)');
  view.actualMiB = actual;
  const kept = lastGuestStats.get(launch.uuid);
  let guest: GuestMemoryStats | null;
  if (kept && Date.now() - kept.at <= statsMaxAgeMs) guest = kept.guest;
  else {
    await pool.askStats(launch.uuid, client);
    guest = await guestMemoryStats(client);
    lastGuestStats.set(launch.uuid, { guest, at: Date.now() });
  }
  if (!guest) return leave('no balloon driver in the guest (it sends no memory statistics)');
  view.guest = guest;
  if (Date.now() - Date.parse(guest.updatedAt) > STALE_STATS_MS)
    return leave(`the guest's balloon driver has been silent since ${guest.updatedAt}`);
  return { ...view, managed: true };
}

/** Every running machine of the runtime root, as the policy sees it. */
/**
 * Every running machine of the runtime root, as the policy sees it. `statsMaxAgeMs`: guest statistics
 * read that recently are reused (a quiet tick, with nothing to decide, asks no guest).
 */
export async function observeMachines(runtimeRoot: string, pool: AgentPool, statsMaxAgeMs = 0): Promise<MachineView[]> {
  const dirs = runningMachineDirs(runtimeRoot);
  const views = (await Promise.all(dirs.map((dir) => observeOne(dir, pool, statsMaxAgeMs)))).filter((v): v is MachineView => v !== null);
  const alive = new Set(views.map((v) => v.uuid));
  pool.keepOnly(alive);
  for (const uuid of [...lastGuestStats.keys()]) if (!alive.has(uuid)) lastGuestStats.delete(uuid);
  return views.sort((a, b) => a.name.localeCompare(b.name));
}
