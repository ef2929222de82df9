/**
 * What the host memory policy sees: /proc/meminfo, and each running machine of the runtime root —
 * found by its launch.json and live agent, its settings read from its machine.json (minimum, shares),
 * its balloon through its agent (query-balloon, the guest's statistics) and its balloon.json (who set
 * the target last). Used by the policy process every tick and by the core for a status.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { effectiveMinimum, type GuestMemoryStats } from '../../../api/resources.js';
import type { MachineState } from '../../../api/machine-config.js';
import { AgentClient } from '../../agent/agent-client.js';
import { launchFileSchema, type AgentStatus } from '../../agent/protocol.js';
import { isProcessAlive } from '../../fs/lock-file.js';
import { loadMachineConfig } from '../../library/library.js';
import { RUNTIME } from '../../paths.js';
import { balloonActualMiB, enableGuestStats, guestMemoryStats } from '../balloon-qmp.js';
import { readBalloonState, type BalloonState } from '../balloon-state.js';
import type { HostMemory } from './decide.js';

/** Statistics older than this mean the guest's driver has stopped answering. */
const STALE_STATS_MS = 30_000;
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

export async function hostMemory(): Promise<HostMemory> {
  return parseMeminfo(await fsp.readFile('/proc/meminfo', 'utf8'));
}

/** The memory QEMU was started with (`-m size=NM`), which the config may since have changed for the next start. */
export function startedMemoryMiB(args: readonly string[]): number | null {
  const i = args.indexOf('-m');
  const m = i >= 0 ? /(?:^|,)size=(\d+)M(?:,|$)/.exec(args[i + 1] ?? '') : null;
  return m ? Number(m[1]) : null;
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

/** Agent connections kept from one tick to the next (the policy process), or made for one look (a status). */
export class AgentPool {
  private readonly clients = new Map<string, AgentClient>();
  /** Machines whose guest statistics were asked for by this pool (once is enough per QEMU). */
  private readonly statsAsked = new Set<string>();

  async client(uuid: string, socket: string): Promise<AgentClient> {
    const known = this.clients.get(uuid);
    if (known && !known.isClosed) return known;
    const client = await AgentClient.connect(socket);
    this.clients.set(uuid, client);
    this.statsAsked.delete(uuid);
    return client;
  }

  /** Ask QEMU to poll the guest's statistics, once per connection (harmless when already asked). */
  async askStats(uuid: string, client: AgentClient): Promise<void> {
    if (this.statsAsked.has(uuid)) return;
    this.statsAsked.add(uuid);
    await enableGuestStats(client).catch(() => undefined);
  }

  /** Connections of machines no longer running are closed. */
  keepOnly(uuids: ReadonlySet<string>): void {
    for (const [uuid, client] of this.clients)
      if (!uuids.has(uuid)) {
        client.close();
        this.clients.delete(uuid);
      }
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
export async function runningMachineDirs(runtimeRoot: string): Promise<string[]> {
  const names = await fsp.readdir(runtimeRoot).catch(() => [] as string[]);
  return names
    .filter((n) => UUID.test(n))
    .map((n) => path.join(runtimeRoot, n))
    .filter((dir) => {
      const pid = readPid(path.join(dir, RUNTIME.agentPid));
      return pid !== null && isProcessAlive(pid) && fs.existsSync(path.join(dir, RUNTIME.launch));
    });
}

async function observeOne(dir: string, pool: AgentPool): Promise<MachineView | null> {
  let launch;
  try {
    launch = launchFileSchema.parse(JSON.parse(await fsp.readFile(path.join(dir, RUNTIME.launch), 'utf8')));
  } catch {
    return null;
  }
  const config = await loadMachineConfig(launch.machineDir).catch(() => null);
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
    balloon: await readBalloonState(dir),
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
  const status = await client.request<AgentStatus>({ op: 'status' }, 5_000).catch(() => null);
  const state: MachineState | undefined = status?.state;
  if (state !== 'running') return leave(state ? `${state}: left as it is` : 'its agent does not answer');
  const actual = await balloonActualMiB(client).catch(() => undefined);
  if (actual === undefined) return leave('QEMU does not answer about its balloon');
  if (actual === null) return leave('no balloon device (switched off in its settings)');
  view.actualMiB = actual;
  await pool.askStats(launch.uuid, client);
  const guest = await guestMemoryStats(client);
  if (!guest) return leave('no balloon driver in the guest (it sends no memory statistics)');
  view.guest = guest;
  if (Date.now() - Date.parse(guest.updatedAt) > STALE_STATS_MS)
    return leave(`the guest's balloon driver has been silent since ${guest.updatedAt}`);
  return { ...view, managed: true };
}

/** Every running machine of the runtime root, as the policy sees it. */
export async function observeMachines(runtimeRoot: string, pool: AgentPool): Promise<MachineView[]> {
  const dirs = await runningMachineDirs(runtimeRoot);
  const views = (await Promise.all(dirs.map((dir) => observeOne(dir, pool)))).filter((v): v is MachineView => v !== null);
  pool.keepOnly(new Set(views.map((v) => v.uuid)));
  return views.sort((a, b) => a.name.localeCompare(b.name));
}
