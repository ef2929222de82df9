/** Checks of host files handed to a machine, each failing with a message a user can act on. */
import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import { VmdeskError } from '../../api/errors.js';

export async function requireReadableFile(file: string, what: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new VmdeskError('NOT_FOUND', `The ${what} ${file} does not exist`);
  }
  if (!stat.isFile() && !stat.isBlockDevice()) throw new VmdeskError('INVALID_INPUT', `The ${what} ${file} is not a file`);
  try {
    await fs.access(file, constants.R_OK);
  } catch {
    throw new VmdeskError('INVALID_INPUT', `The ${what} ${file} is not readable (permission denied)`);
  }
}

/** An ISO 9660 image carries "CD001" at byte 32769 (sector 16 + 1). */
export async function requireIsoImage(file: string): Promise<void> {
  await requireReadableFile(file, 'ISO image');
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(5);
    const { bytesRead } = await handle.read(buf, 0, 5, 32769);
    if (bytesRead < 5 || buf.toString('latin1') !== 'CD001') {
      throw new VmdeskError('INVALID_INPUT', `${file} is not an ISO 9660 image (no CD001 signature)`);
    }
  } finally {
    await handle.close();
  }
}

/** A locally administered, unicast MAC in QEMU's 52:54:00 range, not among `taken`. */
export function generateMac(taken: ReadonlySet<string>, random: () => number = Math.random): string {
  for (;;) {
    const bytes = [0x52, 0x54, 0x00, ...Array.from({ length: 3 }, () => Math.floor(random() * 256))];
    const mac = bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
    if (!taken.has(mac)) return mac;
  }
}
