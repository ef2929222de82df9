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

/**
 * UEFI firmware (OVMF) boots a kernel given with -kernel through its EFI stub, which only a bzImage
 * has; an uncompressed ELF kernel (the demo guest's boot/vmlinux, booted by its PVH entry) boots on
 * BIOS only, and under OVMF would leave the machine in the firmware's menu. Refused with what to do.
 */
export async function requireFirmwareBootsKernel(firmware: 'bios' | 'uefi', kernel: string, name: string, shown: string): Promise<void> {
  if (firmware !== 'uefi') return;
  const handle = await fs.open(kernel, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await handle.read(buf, 0, 4, 0);
    if (bytesRead === 4 && buf.toString('latin1') === '\x7fELF')
      throw new VmdeskError(
        'INVALID_INPUT',
        `${name} boots ${shown}, an uncompressed (ELF) kernel, which UEFI firmware cannot boot directly: keep BIOS, or give it a bzImage kernel`,
      );
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
