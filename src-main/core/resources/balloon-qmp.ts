/**
 * The virtio-balloon's QMP commands, through a machine's agent: its size (query-balloon, whose
 * `actual` is the guest's memory, not the balloon's), a new target (`balloon`, whose `value` is the
 * guest's target size), and the guest's own statistics (qom-get guest-stats, sent by its driver every
 * polling interval). Shared by the manual target, the host memory policy and the stats sampler.
 */
import type { GuestMemoryStats } from '../../api/resources.js';
import type { AgentClient } from '../agent/agent-client.js';
import { BALLOON_ID } from '../qemu/qemu-args.js';

const MiB = 1024 * 1024;
export const BALLOON_PATH = `/machine/peripheral/${BALLOON_ID}`;
/** How often the guest's driver sends its statistics, in seconds (QEMU asks for them). */
export const GUEST_STATS_INTERVAL_S = 2;

/** The guest's memory size now (memory minus balloon), in MiB; null when the machine has no balloon. */
export async function balloonActualMiB(client: AgentClient): Promise<number | null> {
  const info = await client.qmp<{ actual: number }>('query-balloon', undefined, 5_000).catch((err: unknown) => {
    if (isNoBalloon(err)) return null;
    throw err;
  });
  return info ? Math.round(info.actual / MiB) : null;
}

/** Ask the guest to bring its memory to `targetMiB` (the balloon inflates or deflates to match). */
export async function setBalloonTarget(client: AgentClient, targetMiB: number): Promise<void> {
  await client.qmp('balloon', { value: targetMiB * MiB }, 5_000);
}

/** Ask QEMU to fetch the guest's statistics every `seconds` (0: stop). Harmless before the driver loads. */
export async function enableGuestStats(client: AgentClient, seconds = GUEST_STATS_INTERVAL_S): Promise<void> {
  await client.qmp('qom-set', { path: BALLOON_PATH, property: 'guest-stats-polling-interval', value: seconds }, 5_000);
}

interface RawGuestStats {
  stats?: Record<string, number>;
  'last-update'?: number;
}

/**
 * The guest's statistics, or null while its driver has sent none (not loaded, or no balloon). QEMU
 * reports a figure the guest does not give as -1.
 */
export async function guestMemoryStats(client: AgentClient): Promise<GuestMemoryStats | null> {
  const raw = await client.qmp<RawGuestStats>('qom-get', { path: BALLOON_PATH, property: 'guest-stats' }, 5_000).catch(() => null);
  return parseGuestStats(raw);
}

export function parseGuestStats(raw: RawGuestStats | null): GuestMemoryStats | null {
  if (!raw?.stats || !raw['last-update']) return null;
  const stats = raw.stats;
  const bytes = (key: string): number | null => {
    const v = stats[key];
    return typeof v === 'number' && v >= 0 ? Math.round(v / MiB) : null;
  };
  const count = (key: string): number | null => {
    const v = stats[key];
    return typeof v === 'number' && v >= 0 ? v : null;
  };
  return {
    totalMiB: bytes('stat-total-memory'),
    freeMiB: bytes('stat-free-memory'),
    availableMiB: bytes('stat-available-memory'),
    diskCachesMiB: bytes('stat-disk-caches'),
    swapInMiB: bytes('stat-swap-in'),
    swapOutMiB: bytes('stat-swap-out'),
    majorFaults: count('stat-major-faults'),
    minorFaults: count('stat-minor-faults'),
    updatedAt: new Date(raw['last-update'] * 1000).toISOString(),
  };
}

function isNoBalloon(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /balloon/i.test(message) && /(not active|activated|no balloon)/i.test(message);
}
