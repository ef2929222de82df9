/**
 * Host paths handed to VMDesk as data (disk images, ISOs, kernels, P2V sources): only regular files,
 * and block devices where a block device is meant. Character devices (`/dev/urandom`), FIFOs and
 * sockets never end, hang or read another process; files of the kernel's pseudo filesystems
 * (`/proc/self/mem`, `/proc/self/environ`, sysfs) look like regular files but are windows on the
 * host. Every one is refused with a message that says what the path is.
 */
import fs from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';

/** statfs f_type of filesystems whose files are the kernel's, not data (linux/magic.h). */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0xde5e81e4, 'efivarfs'],
  [0x6165676c, 'pstore'],
  [0x42494e4d, 'binfmt_misc'],
  [0x1cd1, 'devpts'],
  [0x50495045, 'pipefs'],
  [0x534f434b, 'sockfs'],
  [0x09041934, 'anon_inode_fs'],
]);

/** The name of the kernel pseudo filesystem `file` lies on (procfs, sysfs…), or undefined. */
export async function pseudoFilesystem(file: string): Promise<string | undefined> {
  return fs.statfs(file).then(
    (s) => PSEUDO_FILESYSTEMS.get(Number(s.type)),
    () => undefined,
  );
}

/** Top-level folders of the system itself: never a place for a machine. */
const SYSTEM_FOLDERS = new Set(['dev', 'proc', 'sys', 'run', 'boot', 'etc', 'usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']);

/**
 * Why `folder` (absolute, symbolic links resolved) is no place for a machine folder, or null:
 * the root, the system's own folders, and pseudo filesystems are refused.
 */
export async function unfitForMachines(folder: string): Promise<string | null> {
  if (folder === '/') return 'the root of the filesystem';
  const top = folder.split('/')[1] ?? '';
  if (SYSTEM_FOLDERS.has(top)) return `a system folder (/${top})`;
  const fsType = await pseudoFilesystem(folder);
  return fsType ? `on the kernel's ${fsType}` : null;
}

export type BlockDevicePolicy = 'refuse' | 'allow';

export interface HostFile {
  /** Absolute, symbolic links resolved: the file that will really be read. */
  path: string;
  stat: Stats;
  blockDevice: boolean;
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * `file` as a readable regular file (or block device when allowed), never on a pseudo filesystem.
 * `what` names the role in messages: "disk image", "ISO image", "kernel".
 */
export async function requireHostFile(file: string, what: string, blockDevices: BlockDevicePolicy = 'refuse'): Promise<HostFile> {
  const abs = path.resolve(file);
  let real: string;
  let stat: Stats;
  try {
    real = await fs.realpath(abs);
    stat = await fs.stat(real);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new VmdeskError('INVALID_INPUT', `The ${what} ${abs} is not readable (permission denied)`);
    if (code === 'ELOOP') throw new VmdeskError('INVALID_INPUT', `The ${what} ${abs} is a loop of symbolic links`);
    throw new VmdeskError('NOT_FOUND', `The ${what} ${abs} does not exist`);
  }
  const blockDevice = stat.isBlockDevice();
  if (!stat.isFile() && !(blockDevice && blockDevices === 'allow')) {
    const hint = blockDevice ? ' (a physical disk becomes a machine with P2V)' : '';
    throw new VmdeskError('INVALID_INPUT', `The ${what} ${abs} is ${kindOf(stat)}, not a regular file${hint}: refused`);
  }
  if (!blockDevice) {
    const fsType = await pseudoFilesystem(real);
    if (fsType)
      throw new VmdeskError('INVALID_INPUT', `The ${what} ${abs} is a file of the kernel's ${fsType}, not a regular file: refused`);
  }
  try {
    await fs.access(real, constants.R_OK);
  } catch {
    throw new VmdeskError('INVALID_INPUT', `The ${what} ${abs} is not readable (permission denied)`);
  }
  return { path: real, stat, blockDevice };
}
