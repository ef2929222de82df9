/** Checks of host files handed to a machine, each failing with a message a user can act on. */
import fs from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';
import { requireHostFile } from '../fs/host-file.js';

/** An ISO 9660 image carries "CD001" at byte 32769 (sector 16 + 1). */
export async function requireIsoImage(file: string): Promise<void> {
  // A block device is a host CD drive (/dev/sr0): its disc is read as it is.
  const iso = await requireHostFile(file, 'ISO image', 'allow');
  if (iso.blockDevice) return;
  const handle = await fs.open(iso.path, 'r');
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
