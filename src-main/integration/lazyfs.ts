/**
 * lazyfs.py (beside this file) mounted for a test: a FUSE passthrough that keeps written data in
 * memory until fsync and forgets it on a "crash", and can delay every write and fsync (a slow disk).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { eventually } from './harness.js';

const PYTHON = '/usr/bin/python3';
const LAZYFS = path.join(import.meta.dirname, 'lazyfs.py');

/** Why lazyfs cannot run here (it also needs root), or null. */
export const LAZYFS_MISSING =
  fs.existsSync('/dev/fuse') && spawnSync(PYTHON, ['-c', 'import fusepy']).status === 0 ? null : 'needs /dev/fuse and python3-fusepy';

export interface LazyFs {
  mount: string;
  mounted(): boolean;
  /** The power goes: every write not fsynced is forgotten. */
  crash(): void;
  unmount(): void;
}

/**
 * Mounts lazyfs on `<dir>/<name>`, its data in `<dir>/backing`; `options` go to lazyfs.py.
 * `backingExists`: mounted again over the data of an earlier mount (a disk plugged in again).
 */
export async function mountLazyFs(dir: string, name: string, options: string[] = [], { backingExists = false } = {}): Promise<LazyFs> {
  const backing = path.join(dir, 'backing');
  const mount = path.join(dir, name);
  fs.mkdirSync(backing, { recursive: backingExists });
  fs.mkdirSync(mount, { recursive: backingExists });
  const fuse: ChildProcess = spawn(PYTHON, [LAZYFS, ...options, backing, mount], { stdio: ['ignore', 'inherit', 'inherit'] });
  const mounted = (): boolean => fs.readFileSync('/proc/mounts', 'utf8').includes(` ${mount} fuse`);
  await eventually(
    () => Promise.resolve(mounted()),
    (m) => m,
    10_000,
  );
  if (!mounted()) {
    fuse.kill('SIGKILL');
    throw new Error('lazyfs did not mount');
  }
  return {
    mount,
    mounted,
    crash: () => fs.writeFileSync(path.join(mount, '.crash'), 'now'),
    unmount() {
      if (mounted()) spawnSync('umount', ['-l', mount]);
      fuse.kill('SIGKILL');
    },
  };
}
