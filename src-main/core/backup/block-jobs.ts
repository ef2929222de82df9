/**
 * The QEMU side of a backup, the same for a running machine's QEMU and for qemu-storage-daemon:
 * each disk's dirty bitmaps, and one QMP transaction that starts a backup job per disk and adds the
 * bitmap of the new point, so that all disks are copied as they were at one instant and the new
 * bitmap tracks writes from exactly that instant.
 *
 * The bitmap of the previous point is never consumed by a job: `sync: bitmap` with `bitmap-mode:
 * never` copies what it marks and leaves it as it is, and VMDesk removes it only once every disk's
 * job has succeeded. (QEMU 7.2 refuses `completion-mode: grouped` in a transaction that adds a
 * bitmap, so with `sync: incremental` one disk's failure could still clear another disk's bitmap.)
 */
import { VmdeskError } from '../../api/errors.js';
import { LUKS_ENCRYPT } from '../storage/secret-fifo.js';

/** One QMP command (through the agent, or on qemu-storage-daemon's monitor). */
export type QmpExec = (command: string, args?: Record<string, unknown>) => Promise<unknown>;

export const BITMAP_PREFIX = 'vmdesk-backup-';

export interface BitmapInfo {
  name: string;
  recording?: boolean;
  busy?: boolean;
  persistent?: boolean;
  inconsistent?: boolean;
}

/** The QEMU node a disk is read from (its top image), its size and its dirty bitmaps. */
export interface DiskNode {
  id: string;
  node: string;
  virtualSize: number;
  bitmaps: BitmapInfo[];
}

/** QAPI's BlockDeviceInfo, as far as backups read it. */
export interface BlockDeviceInfo {
  'node-name'?: string;
  image?: { 'virtual-size'?: number };
  'dirty-bitmaps'?: BitmapInfo[];
}

export function diskNode(id: string, info: BlockDeviceInfo | undefined): DiskNode {
  const node = info?.['node-name'];
  const virtualSize = info?.image?.['virtual-size'];
  if (!node || virtualSize === undefined) throw new VmdeskError('INTERNAL', `QEMU has no block node for disk ${id}`);
  return { id, node, virtualSize, bitmaps: info?.['dirty-bitmaps'] ?? [] };
}

export interface DiskJob {
  disk: DiskNode;
  /** The new point's image (created empty, of the disk's size). */
  target: string;
  /** The target is LUKS-encrypted (the disk is): opened with the key the QEMU holds. */
  encrypted: boolean;
  /** The bitmap of the previous point: copy only what it marks; absent: copy everything. */
  since?: string;
}

interface JobInfo {
  id: string;
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

const POLL_MS = 200;

/**
 * Copies each disk into its target at one instant and starts `newBitmap` on each disk; on success
 * the older VMDesk bitmaps go, on failure (or cancel) `newBitmap` goes and the older ones stay.
 */
export async function runBackupJobs(
  qmp: QmpExec,
  jobs: DiskJob[],
  newBitmap: string,
  opts: { signal: AbortSignal; onProgress: (fraction: number) => void },
): Promise<void> {
  const tag = newBitmap.slice(BITMAP_PREFIX.length);
  const targetNode = (j: DiskJob): string => `vmdesk-bt-${tag}-${j.disk.id}`;
  const jobId = (j: DiskJob): string => `vmdesk-backup-${tag}-${j.disk.id}`;
  const added: string[] = [];
  let started = false;
  try {
    for (const j of jobs) {
      await qmp('blockdev-add', {
        driver: 'qcow2',
        'node-name': targetNode(j),
        file: { driver: 'file', filename: j.target },
        // The point's backing (the previous point) is never read by the job: not opened at all.
        backing: null,
        ...(j.encrypted ? { encrypt: LUKS_ENCRYPT } : {}),
      });
      added.push(targetNode(j));
    }
    const actions = jobs.flatMap((j) => [
      { type: 'block-dirty-bitmap-add', data: { node: j.disk.node, name: newBitmap, persistent: true } },
      {
        type: 'blockdev-backup',
        data: {
          'job-id': jobId(j),
          device: j.disk.node,
          target: targetNode(j),
          'auto-dismiss': false,
          ...(j.since ? { sync: 'bitmap', bitmap: j.since, 'bitmap-mode': 'never' } : { sync: 'full' }),
        },
      },
    ]);
    await qmp('transaction', { actions });
    started = true;
    const failure = await waitForJobs(qmp, new Map(jobs.map((j) => [jobId(j), j.disk.id])), opts);
    if (failure) throw failure;
    for (const j of jobs)
      for (const b of j.disk.bitmaps)
        if (b.name.startsWith(BITMAP_PREFIX) && b.name !== newBitmap)
          await qmp('block-dirty-bitmap-remove', { node: j.disk.node, name: b.name });
  } catch (err) {
    if (started)
      for (const j of jobs) await qmp('block-dirty-bitmap-remove', { node: j.disk.node, name: newBitmap }).catch(() => undefined);
    throw err;
  } finally {
    for (const node of added) await qmp('blockdev-del', { 'node-name': node }).catch(() => undefined);
  }
}

/** Polls the jobs until all have concluded (cancelling them all on abort or on a first failure); returns the first error. */
async function waitForJobs(
  qmp: QmpExec,
  ids: Map<string, string>,
  opts: { signal: AbortSignal; onProgress: (fraction: number) => void },
): Promise<VmdeskError | null> {
  let cancelSent = false;
  for (;;) {
    const ours = ((await qmp('query-jobs')) as JobInfo[]).filter((j) => ids.has(j.id));
    const failing = ours.some((j) => j.error);
    if ((opts.signal.aborted || failing) && !cancelSent) {
      cancelSent = true;
      for (const j of ours)
        if (j.status !== 'concluded' && j.status !== 'null') await qmp('job-cancel', { id: j.id }).catch(() => undefined);
    }
    const total = ours.reduce((s, j) => s + j['total-progress'], 0);
    if (total > 0) opts.onProgress(ours.reduce((s, j) => s + j['current-progress'], 0) / total);
    if (ours.every((j) => j.status === 'concluded' || j.status === 'null')) {
      for (const j of ours) await qmp('job-dismiss', { id: j.id }).catch(() => undefined);
      const failed = ours.find((j) => j.error && !/cancel/i.test(j.error)) ?? ours.find((j) => j.error);
      if (failed && !opts.signal.aborted) return new VmdeskError('IO', `The backup of disk ${ids.get(failed.id)} failed: ${failed.error}`);
      return opts.signal.aborted ? new VmdeskError('CANCELLED', 'Backup cancelled') : null;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
