/**
 * Moving a machine folder (and the disks in it) to another folder or filesystem: copy, verify,
 * switch the library entry, then remove the old copy.
 *
 * - Same filesystem: the copy is a tree of hard links (no data copied, constant time); across
 *   filesystems, `cp --reflink=auto` file by file (sparse files stay sparse), with progress.
 * - The copy is built in a hidden staging folder with an owner file, renamed into place once
 *   verified (sizes, and `qemu-img check` of every copied qcow2) and fsynced (every file and
 *   folder, then the rename), then the library entry is switched
 *   in one atomic write. Until that write the old folder is the registered one and untouched; after
 *   it the new one is. A core killed at any point leaves one working machine, registered once; an
 *   abandoned copy is removed by the next move there.
 * - Images keep working: paths inside the folder are relative in machine.json and snapshots.json,
 *   and a backing file named by an absolute path inside the old folder is rewritten as relative.
 * - Linked clones of this machine rest on its images by absolute path: moving it is refused while
 *   they exist (naming them), rather than rewriting other machines' disks.
 */
import { spawn } from 'node:child_process';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig } from '../../api/machine-config.js';
import type { Library, MachineRecord } from '../library/library.js';
import { MACHINE_CONFIG, MACHINE_CONFIG_BACKUP, MACHINE_LOCK } from '../paths.js';
import { checkImage } from '../qemu/qemu-img.js';
import { syncDir, syncTree, writeJsonAtomic } from '../fs/atomic-file.js';
import { unfitForMachines } from '../fs/host-file.js';
import { backingChain, rewriteBackingFile } from '../storage/image-chain.js';
import { requireNoDependents } from '../storage/image-users.js';
import { SNAPSHOTS_FILE } from '../storage/snapshot-files.js';
import { tethered } from '../storage/tether.js';
import type { TaskContext } from '../tasks/task-manager.js';
import { OWNER_FILE, clearOwner, formatBytes, freeBytes, isAbandoned, makeStaging, sweepStaging, writeOwner } from './staging.js';
import { sweepDebris } from '../library/debris.js';
import { isInsideOrSame } from '../fs/path-inside.js';

export interface MoveResult {
  from: string;
  dir: string;
  method: 'link' | 'copy';
}

const exists = (p: string): Promise<boolean> =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

/** Files not carried over: the lock (held by this move) and owner files. */
const SKIP = new Set([MACHINE_LOCK, OWNER_FILE]);

interface TreeFile {
  rel: string;
  size: number;
  allocated: number;
}

async function listTree(root: string): Promise<{ dirs: string[]; files: TreeFile[]; links: string[] }> {
  const tree = { dirs: [] as string[], files: [] as TreeFile[], links: [] as string[] };
  const walk = async (rel: string): Promise<void> => {
    const entries: Dirent[] = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const entry of entries) {
      const child = rel ? path.join(rel, entry.name) : entry.name;
      if (!rel && SKIP.has(entry.name)) continue;
      if (entry.isDirectory()) {
        tree.dirs.push(child);
        await walk(child);
      } else if (entry.isSymbolicLink()) tree.links.push(child);
      else if (entry.isFile()) {
        const stat = await fs.stat(path.join(root, child));
        tree.files.push({ rel: child, size: stat.size, allocated: stat.blocks * 512 });
      }
      // Sockets and the like are runtime leftovers: not part of a machine.
    }
  };
  await walk('');
  return tree;
}

/** `cp` of one file: reflink where possible, holes kept; killed on cancel. */
function copyFile(src: string, dst: string, signal: AbortSignal, onBytes: (allocated: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const [command, args] = tethered('cp', [
      '--reflink=auto',
      '--sparse=auto',
      '--preserve=mode,timestamps',
      '--no-target-directory',
      '--',
      src,
      dst,
    ]);
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      fs.stat(dst).then(
        (s) => onBytes(s.blocks * 512),
        () => undefined,
      );
    }, 250);
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      clearInterval(poll);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(poll);
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(new VmdeskError('CANCELLED', 'Cancelled'));
      else if (code === 0) resolve();
      else if (/No space left/i.test(stderr))
        reject(new VmdeskError('IO', `No space left on the target filesystem while copying ${path.basename(src)}`));
      else reject(new VmdeskError('IO', `Cannot copy ${src}: ${stderr.trim() || `cp exited with code ${String(code)}`}`));
    });
  });
}

/** String values naming a path inside `oldDir` become relative to the folder. */
function relativize(value: unknown, oldDir: string): unknown {
  if (typeof value === 'string') return isInsideOrSame(oldDir, value) && path.isAbsolute(value) ? path.relative(oldDir, value) : value;
  if (Array.isArray(value)) return value.map((v) => relativize(v, oldDir));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativize(v, oldDir)]));
  return value;
}

async function relativizeJson(file: string, oldDir: string): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const next = relativize(raw, oldDir);
  // Written as a new file (with hard links the old folder keeps its own version), and durably.
  if (JSON.stringify(next) !== JSON.stringify(raw)) await writeJsonAtomic(file, next);
}

export async function moveMachine(
  library: Library,
  record: MachineRecord & { config: MachineConfig },
  destination: string,
  running: boolean,
  ctx: TaskContext,
): Promise<MoveResult> {
  const name = record.config.name;
  if (running) throw new VmdeskError('INVALID_STATE', `${name} is running: shut it down before moving it`);
  const parent = path.resolve(destination);
  const stat = await fs.stat(parent).catch(() => null);
  if (!stat) throw new VmdeskError('NOT_FOUND', `The folder ${parent} does not exist`);
  if (!stat.isDirectory()) throw new VmdeskError('INVALID_INPUT', `${parent} is not a folder`);
  const oldDir = await fs.realpath(record.dir);
  const realParent = await fs.realpath(parent);
  if (isInsideOrSame(oldDir, realParent))
    throw new VmdeskError('INVALID_INPUT', `Cannot move ${name} into its own folder ${oldDir} (or a folder inside it)`);
  const unfit = await unfitForMachines(realParent);
  if (unfit) throw new VmdeskError('INVALID_INPUT', `${realParent} is ${unfit}: choose a folder of your own for ${name}`);
  const target = path.join(realParent, path.basename(oldDir));
  if (target === oldDir) throw new VmdeskError('INVALID_INPUT', `${name} is already in ${realParent}`);
  const records = await library.list();
  for (const other of records) {
    if (other.uuid === record.uuid) continue;
    const otherDir = await fs.realpath(other.dir).catch(() => other.dir);
    if (isInsideOrSame(otherDir, realParent))
      throw new VmdeskError(
        'INVALID_INPUT',
        `${realParent} is inside the folder of ${other.config?.name ?? 'another machine'}: choose another folder`,
      );
  }
  if (!records.some((r) => r.dir === target) && (await isAbandoned(target))) await fs.rm(target, { recursive: true, force: true });
  if (await exists(target)) throw new VmdeskError('ALREADY_EXISTS', `${target} already exists: choose another folder`);
  await requireNoDependents(library, { uuid: record.uuid, dir: oldDir, name }, 'move');
  await sweepDebris(library);
  await sweepStaging(realParent);

  let sameFs = (await fs.stat(oldDir)).dev === stat.dev;
  const tree = await listTree(oldDir);
  const total = tree.files.reduce((s, f) => s + f.allocated, 0);
  if (!sameFs) {
    const free = await freeBytes(realParent);
    if (total > free)
      throw new VmdeskError(
        'IO',
        `Not enough free space to move ${name}: it takes ${formatBytes(total)} and ${realParent} has ${formatBytes(free)} free`,
        { needed: total, free },
      );
  }

  const staging = await makeStaging(realParent);
  try {
    for (const dir of tree.dirs) await fs.mkdir(path.join(staging, dir));
    let done = 0;
    for (const file of tree.files) {
      if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
      const src = path.join(oldDir, file.rel);
      const dst = path.join(staging, file.rel);
      // One filesystem seen through two mounts (a bind mount) refuses links: copy instead.
      if (sameFs)
        await fs.link(src, dst).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EXDEV') throw err;
          sameFs = false;
        });
      if (!sameFs) {
        const start = done;
        await copyFile(src, dst, ctx.signal, (bytes) =>
          ctx.progress(total ? (start + Math.min(bytes, file.allocated)) / total : null, `Copying ${file.rel}`),
        );
      }
      done += file.allocated;
      ctx.progress(total ? (done / total) * 0.9 : null, `Copying ${file.rel}`);
    }
    for (const link of tree.links) await fs.symlink(await fs.readlink(path.join(oldDir, link)), path.join(staging, link));

    // Verify: every file whole, every qcow2 image consistent.
    ctx.progress(0.9, 'Verifying');
    for (const file of tree.files) {
      const copy = await fs.stat(path.join(staging, file.rel));
      if (copy.size !== file.size)
        throw new VmdeskError('IO', `The copy of ${file.rel} has ${copy.size} bytes instead of ${file.size}: the move was abandoned`);
    }
    const images = new Map<string, string>();
    for (const disk of record.config.disks) {
      const abs = path.isAbsolute(disk.file) ? disk.file : path.join(oldDir, disk.file);
      if (!isInsideOrSame(oldDir, abs) || disk.format === 'raw') continue;
      for (const image of await backingChain(abs, disk.format)) {
        if (isInsideOrSame(oldDir, image.file)) images.set(image.file, image.format);
      }
    }
    for (const [image, format] of images) {
      const copy = path.join(staging, path.relative(oldDir, image));
      if (!sameFs && format !== 'raw') await checkImage(copy, format);
    }
    // Backing files named by an absolute path inside the old folder: named relatively in the copy.
    for (const [image] of images) {
      const top = (await backingChain(image, images.get(image) ?? 'qcow2'))[0];
      if (!top?.backingFile || !top.backingPath || !path.isAbsolute(top.backingFile) || !isInsideOrSame(oldDir, top.backingPath)) continue;
      const backingFormat = images.get(top.backingPath) ?? 'qcow2';
      await rewriteBackingFile(
        path.join(staging, path.relative(oldDir, image)),
        path.relative(path.dirname(image), top.backingPath),
        backingFormat,
      );
    }
    await relativizeJson(path.join(staging, MACHINE_CONFIG), oldDir);
    await fs.rm(path.join(staging, MACHINE_CONFIG_BACKUP), { force: true });
    await relativizeJson(path.join(staging, SNAPSHOTS_FILE), oldDir);
    if (ctx.signal.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');

    // Switch: the copy takes its name (its owner file now naming the old folder, so that a kill
    // after the switch leaves an old copy the next operation recognises and removes), then the
    // library points at it.
    // Every copied byte and name on the disk before the switch: a power loss after it must find
    // the copy whole, as the old folder is removed.
    await writeOwner(staging, { movedFrom: oldDir });
    await syncTree(staging);
    await fs.rename(staging, target);
    await syncDir(realParent);
    try {
      await library.relocate(record.uuid, target);
    } catch (err) {
      await fs.rm(target, { recursive: true, force: true });
      throw err;
    }
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
  ctx.progress(0.95, 'Removing the old copy');
  await fs.rm(oldDir, { recursive: true, force: true });
  await clearOwner(target);
  ctx.progress(1, 'Moved');
  return { from: oldDir, dir: target, method: sameFs ? 'link' : 'copy' };
}
