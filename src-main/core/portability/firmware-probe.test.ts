import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeFirmware } from './firmware-probe.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-fw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A disk image with a GPT header at `sector` and one partition of type `typeHex`. */
function gptDisk(name: string, sector: number, typeHex: string): string {
  const disk = Buffer.alloc(64 * sector);
  disk.write('EFI PART', sector, 'latin1');
  disk.writeBigUInt64LE(2n, sector + 72);
  disk.writeUInt32LE(128, sector + 80);
  disk.writeUInt32LE(128, sector + 84);
  Buffer.from(typeHex, 'hex').copy(disk, 2 * sector + 128 * 3);
  const file = path.join(dir, name);
  fs.writeFileSync(file, disk);
  return file;
}

describe('probeFirmware', () => {
  it('finds an EFI system partition on GPT disks of 512- and 4096-byte sectors', async () => {
    expect(await probeFirmware(gptDisk('esp512', 512, '28732ac11ff8d211ba4b00a0c93ec93b'))).toBe('uefi');
    expect(await probeFirmware(gptDisk('esp4k', 4096, '28732ac11ff8d211ba4b00a0c93ec93b'))).toBe('uefi');
  });

  it('says BIOS for GPT without an ESP, MBR, blank and tiny disks', async () => {
    // A Linux filesystem partition only (0FC63DAF-8483-4772-8E79-3D69D8477DE4).
    expect(await probeFirmware(gptDisk('linux', 512, 'af3dc60f838472478e793d69d8477de4'))).toBe('bios');
    const mbr = path.join(dir, 'mbr');
    const b = Buffer.alloc(4096);
    b[510] = 0x55;
    b[511] = 0xaa;
    fs.writeFileSync(mbr, b);
    expect(await probeFirmware(mbr)).toBe('bios');
    fs.writeFileSync(path.join(dir, 'tiny'), 'x');
    expect(await probeFirmware(path.join(dir, 'tiny'))).toBe('bios');
  });
});
