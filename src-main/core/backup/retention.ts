/**
 * Retention of a backup chain (`vmdesk backup --keep N`): the newest N points stay. When the oldest
 * of them is incremental, the points it rests on are merged into it first — `qemu-img commit` of
 * its image down to the chain's full image (only the changed clusters are written), which then
 * takes its place — so it becomes a full point and every later point still reads through it.
 * The points before it are then dropped from the manifest, and their folders removed.
 *
 * An encrypted disk's points are merged by the QEMU that made the new point, which holds the key:
 * the chain is opened there, every layer with the key, and `block-stream` copies what the point
 * reads from the points under it into its own (still encrypted) image, which then stands alone.
 * That writes the data of the full image again, where `commit` would write only what changed, but
 * it needs no rename, and the key never leaves that QEMU.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { syncDir, syncFile } from '../fs/atomic-file.js';
import type { AgentClient } from '../agent/agent-client.js';
import { imageNode } from '../qemu/qemu-args.js';
import { qemuImgError, runQemuImg } from '../qemu/qemu-img-run.js';
import { awaitJob } from '../snapshots/qmp-job.js';
import { chainFiles, checkPointImage } from './chain-images.js';
import { chainTo, sha256File, writeManifest, type Manifest, type PointRecord } from './manifest.js';

/** A QEMU holding the machine's key (its own, or the backup's qemu-storage-daemon). */
type KeyedQemu = Pick<AgentClient, 'request'>;

/** Keeps the newest `keep` points; returns the numbers of the points dropped. */
export async function pruneChain(chainDir: string, manifest: Manifest, keep: number, qemu: KeyedQemu): Promise<number[]> {
  const drop = manifest.points.length - keep;
  if (drop <= 0) return [];
  const first = manifest.points[drop] as PointRecord;
  let kept = first;
  if (first.kind === 'incremental') kept = await mergeIntoFull(chainDir, manifest, first, keep, qemu);
  const dropped = manifest.points.slice(0, drop);
  // The manifest first: a crash after it leaves only unlisted folders, never a listed point without its files.
  await writeManifest(chainDir, { ...manifest, points: [kept, ...manifest.points.slice(drop + 1)] });
  for (const p of dropped) await fs.rm(path.join(chainDir, p.folder), { recursive: true, force: true });
  await syncDir(chainDir);
  return dropped.map((p) => p.point);
}

async function mergeIntoFull(
  chainDir: string,
  manifest: Manifest,
  point: PointRecord,
  keep: number,
  qemu: KeyedQemu,
): Promise<PointRecord> {
  const chain = chainTo(manifest, point.point);
  const disks = [];
  for (const d of point.disks) {
    const files = chainFiles(chainDir, chain, d.id);
    // The folder is the user's (a USB disk): its images are checked before qemu-img follows their links.
    for (const [i, p] of chain.entries()) {
      const rec = p.disks.find((x) => x.id === d.id);
      const problems = rec ? await checkPointImage(files.slice(0, i + 1), rec, false) : ['missing'];
      if (problems.length > 0)
        throw new VmdeskError('INVALID_INPUT', `Cannot merge point ${p.point} of disk ${d.id}: ${problems.join('; ')}`);
    }
    const base = files[0] as string;
    const top = files.at(-1) as string;
    if (base !== top && d.encrypted === true) await streamInQemu(qemu, files, d.id);
    else if (base !== top) {
      const r = await runQemuImg(['commit', '-q', '-f', 'qcow2', '-b', base, top]);
      if (r.code !== 0) throw qemuImgError(`merge the backups of disk ${d.id}`, r);
      await syncFile(base);
      // The full image, now holding this point's data, becomes this point's image: later points read through it.
      await fs.rename(base, top);
      await syncDir(path.dirname(top));
    }
    disks.push({ ...d, bytes: (await fs.stat(top)).size, sha256: await sha256File(top) });
  }
  return { ...point, kind: 'full', disks, reason: `the points before it were merged into it (--keep ${keep})` };
}

/** `files` (oldest first) opened in `qemu`, every layer with the key; the top one made to stand alone. */
async function streamInQemu(qemu: KeyedQemu, files: string[], id: string): Promise<void> {
  const qmp = (command: string, args: Record<string, unknown>): Promise<unknown> => qemu.request({ op: 'qmp', command, args });
  const [top, ...below] = [...files].reverse();
  const tag = randomBytes(4).toString('hex');
  const node = `vmdesk-merge-${tag}-${id}`;
  const layers = below.map((file) => ({ file, format: 'qcow2', encrypted: true }));
  await qmp('blockdev-add', { 'node-name': node, ...imageNode('qcow2', top as string, undefined, true, layers) });
  try {
    const job = `vmdesk-merge-${tag}`;
    await qmp('block-stream', { 'job-id': job, device: node, 'auto-dismiss': false });
    await awaitJob(qemu, job, `merge the backups of disk ${id}`);
  } finally {
    await qmp('blockdev-del', { 'node-name': node });
  }
}
