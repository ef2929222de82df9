/**
 * Host block devices for P2V and V2P: their size (from sysfs) and whether they, or any of their
 * partitions, are mounted or held by another device (LVM, RAID, dm-crypt). Such a device is never
 * read for a copy nor written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';

export interface BlockDevice {
  path: string;
  size: number;
  /** Mount points of the device or its partitions. */
  mounts: string[];
  /** Devices stacked on it (dm, md). */
  holders: string[];
}

async function sysfsDir(major: number, minor: number): Promise<string> {
  return fs.realpath(`/sys/dev/block/${major}:${minor}`);
}

function majorMinor(rdev: number): [number, number] {
  // Linux dev_t: major in bits 8..19, minor in bits 0..7 and 20..31.
  return [(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)];
}

/** Mount points whose source device is this device or one of its partitions. */
async function mountsOf(devSys: string): Promise<string[]> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const found: string[] = [];
  for (const line of info.split('\n')) {
    const fields = line.split(' ');
    const mm = fields[2];
    const mountPoint = fields[4];
    if (!mm || !mountPoint || !/^\d+:\d+$/.test(mm)) continue;
    const target = await fs.realpath(`/sys/dev/block/${mm}`).catch(() => null);
    if (target && (target === devSys || target.startsWith(`${devSys}/`))) found.push(mountPoint.replace(/\\040/g, ' '));
  }
  // A swap partition is not in mountinfo.
  const swaps = await fs.readFile('/proc/swaps', 'utf8').catch(() => '');
  for (const line of swaps.split('\n').slice(1)) {
    const dev = line.split(/\s+/)[0];
    if (!dev?.startsWith('/dev/')) continue;
    const st = await fs.stat(dev).catch(() => null);
    if (!st?.isBlockDevice()) continue;
    const [ma, mi] = majorMinor(st.rdev);
    const target = await sysfsDir(ma, mi).catch(() => null);
    if (target && (target === devSys || target.startsWith(`${devSys}/`))) found.push(`swap (${dev})`);
  }
  return found;
}

async function holdersOf(devSys: string): Promise<string[]> {
  const holders = new Set<string>();
  const dirs = [devSys, ...(await fs.readdir(devSys).catch(() => [])).map((d) => path.join(devSys, d))];
  for (const dir of dirs) for (const h of await fs.readdir(path.join(dir, 'holders')).catch(() => [])) holders.add(h);
  return [...holders];
}

export async function blockDevice(file: string): Promise<BlockDevice | null> {
  const st = await fs.stat(file);
  if (!st.isBlockDevice()) return null;
  const [major, minor] = majorMinor(st.rdev);
  const devSys = await sysfsDir(major, minor);
  const sectors = Number((await fs.readFile(path.join(devSys, 'size'), 'utf8')).trim());
  return { path: file, size: sectors * 512, mounts: await mountsOf(devSys), holders: await holdersOf(devSys) };
}

/** Refuse a device that is in use: its copy would be inconsistent, a write would corrupt a live filesystem. */
export function requireUnused(dev: BlockDevice): void {
  if (dev.mounts.length > 0) {
    throw new VmdeskError('INVALID_STATE', `${dev.path} is in use (mounted at ${dev.mounts.join(', ')}): unmount it first`);
  }
  if (dev.holders.length > 0) {
    throw new VmdeskError(
      'INVALID_STATE',
      `${dev.path} is in use by ${dev.holders.join(', ')} (LVM, RAID or encryption): release it first`,
    );
  }
}
