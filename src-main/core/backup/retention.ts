/**
 * Retention of a backup chain (`vmdesk backup --keep N --keep-daily N …`): the keep-* rules of
 * scheduled snapshots (../schedule/retention.ts) choose the points that stay, the newest always.
 * When the oldest kept point is incremental, the points it rests on are merged into it first —
 * `qemu-img commit` of its image down to the chain's full image (only the changed clusters are
 * written), which then takes its place — so it becomes a full point and every later point still
 * reads through it. Dropped points between two kept ones are merged into the next kept one by
 * `block-stream` onto the kept point before them, in the QEMU of the backup (only their clusters
 * are copied). The dropped points then leave the manifest, and their folders are removed.
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
import { KEEP_RULES, type KeepRule, type Retention } from '../../api/schedule.js';
import { selectRetained } from '../schedule/retention.js';

/** A QEMU holding the machine's key (its own, or the backup's qemu-storage-daemon). */
type KeyedQemu = Pick<AgentClient, 'qmp'>;

/** What a rule is called where a merged point says why (the CLI's words). */
function ruleWords(rule: Retention): string {
  const flags: Record<KeepRule, string> = {
    keepLast: '--keep',
    keepHourly: '--keep-hourly',
    keepDaily: '--keep-daily',
    keepWeekly: '--keep-weekly',
  };
  return KEEP_RULES.filter((k) => (rule[k] ?? 0) > 0)
    .map((k) => `${flags[k]} ${rule[k]}`)
    .join(' ');
}

/**
 * Applies `rule` to the chain (the newest point always stays); returns the numbers of the points
 * dropped. A dropped point that a kept one reads through is merged into the next kept point of its
 * run; one that nothing reads through (the last points of an older chain, before a full point) is
 * just removed.
 */
export async function pruneChain(chainDir: string, manifest: Manifest, rule: Retention, qemu: KeyedQemu): Promise<number[]> {
  const { keep } = selectRetained(
    manifest.points.map((p) => ({ id: String(p.point), createdAt: p.createdAt })),
    rule,
  );
  const newest = manifest.points.at(-1)?.point;
  const kept = (p: PointRecord): boolean => keep.has(String(p.point)) || p.point === newest;
  if (manifest.points.every(kept)) return [];
  const next: PointRecord[] = [];
  let passed: PointRecord[] = [];
  for (const p of manifest.points) {
    // A full point starts a chain of its own: nothing in it reads the points dropped before it.
    if (p.kind === 'full') passed = [];
    if (!kept(p)) {
      passed.push(p);
      continue;
    }
    next.push(passed.length > 0 ? await absorb(chainDir, manifest, p, passed, rule, qemu) : p);
    passed = [];
  }
  const dropped = manifest.points.filter((p) => !kept(p));
  // The manifest first: a crash after it leaves only unlisted folders, never a listed point without its files.
  await writeManifest(chainDir, { ...manifest, points: next });
  for (const p of dropped) await fs.rm(path.join(chainDir, p.folder), { recursive: true, force: true });
  await syncDir(chainDir);
  return dropped.map((p) => p.point);
}

/**
 * `point` takes in the dropped points just before it (`absorbed`, oldest first, of its chain): it
 * then reads the same without them. The first of a chain among them (the full point) makes it full.
 */
async function absorb(
  chainDir: string,
  manifest: Manifest,
  point: PointRecord,
  absorbed: PointRecord[],
  rule: Retention,
  qemu: KeyedQemu,
): Promise<PointRecord> {
  const chain = chainTo(manifest, point.point);
  const from = chain.findIndex((p) => p.point === absorbed[0]?.point);
  const disks = [];
  for (const d of point.disks) {
    const files = chainFiles(chainDir, chain, d.id);
    // The folder is the user's (a USB disk): its images are checked before anything follows their links.
    for (const [i, p] of chain.entries()) {
      const rec = p.disks.find((x) => x.id === d.id);
      const problems = rec ? await checkPointImage(files.slice(0, i + 1), rec, false) : ['missing'];
      if (problems.length > 0)
        throw new VmdeskError('INVALID_INPUT', `Cannot merge point ${p.point} of disk ${d.id}: ${problems.join('; ')}`);
    }
    const top = files.at(-1) as string;
    const encrypted = d.encrypted === true;
    if (from > 0 || encrypted) await streamInQemu(qemu, files, d.id, encrypted, from > 0 ? from - 1 : null);
    else {
      const base = files[0] as string;
      const r = await runQemuImg(['commit', '-q', '-f', 'qcow2', '-b', base, top]);
      if (r.code !== 0) throw qemuImgError(`merge the backups of disk ${d.id}`, r);
      await syncFile(base);
      // The full image, now holding this point's data, becomes this point's image: later points read through it.
      await fs.rename(base, top);
      await syncDir(path.dirname(top));
    }
    disks.push({ ...d, bytes: (await fs.stat(top)).size, sha256: await sha256File(top) });
  }
  const words = ruleWords(rule);
  if (from === 0) return { ...point, kind: 'full', disks, reason: `the points before it were merged into it (${words})` };
  const merged = absorbed.map((p) => p.point).join(', ');
  return { ...point, disks, reason: `${absorbed.length > 1 ? 'points' : 'point'} ${merged} merged into it (${words})` };
}

/**
 * `files` (oldest first) opened in `qemu` (every layer with the key when encrypted): the top one
 * takes in the data of the layers above `baseIndex` (null: all of them, so that it stands alone),
 * and then rests on that one, its link written relative as every link of a chain is.
 */
async function streamInQemu(qemu: KeyedQemu, files: string[], id: string, encrypted: boolean, baseIndex: number | null): Promise<void> {
  const qmp = (command: string, args: Record<string, unknown>): Promise<unknown> => qemu.qmp(command, args);
  const [top, ...below] = [...files].reverse();
  const tag = randomBytes(4).toString('hex');
  const node = `vmdesk-merge-${tag}-${id}`;
  const baseNode = `vmdesk-merge-base-${tag}`;
  const layers = below.map((file) => ({ file, format: 'qcow2', encrypted }));
  const root: Record<string, unknown> = { 'node-name': node, ...imageNode('qcow2', top as string, undefined, encrypted, layers) };
  let base = root;
  for (let depth = baseIndex === null ? 0 : files.length - 1 - baseIndex; depth > 0; depth--)
    base = base.backing as Record<string, unknown>;
  if (baseIndex !== null) base['node-name'] = baseNode;
  await qmp('blockdev-add', root);
  try {
    const job = `vmdesk-merge-${tag}`;
    const onto =
      baseIndex === null
        ? {}
        : { 'base-node': baseNode, 'backing-file': path.relative(path.dirname(top as string), files[baseIndex] as string) };
    await qmp('block-stream', { 'job-id': job, device: node, 'auto-dismiss': false, ...onto });
    await awaitJob(qemu, job, `merge the backups of disk ${id}`);
  } finally {
    await qmp('blockdev-del', { 'node-name': node });
  }
}
