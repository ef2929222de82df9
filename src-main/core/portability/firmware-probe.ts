/**
 * Which firmware a physical disk boots with: a GPT disk with an EFI system partition was installed
 * for UEFI, anything else (MBR) for BIOS. Read from the disk's first sectors (512- or 4096-byte).
 */
import fs from 'node:fs/promises';

/** C12A7328-F81F-11D2-BA4B-00A0C93EC93B as stored on disk (first three fields little-endian). */
const ESP_TYPE = Buffer.from('28732ac11ff8d211ba4b00a0c93ec93b', 'hex');
const MAX_ENTRIES = 1024;

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

export async function probeFirmware(file: string): Promise<'uefi' | 'bios'> {
  const handle = await fs.open(file, 'r');
  try {
    for (const sector of [512, 4096]) {
      const header = await readAt(handle, sector, 92);
      if (header.length < 92 || header.toString('latin1', 0, 8) !== 'EFI PART') continue;
      const entriesLba = Number(header.readBigUInt64LE(72));
      const count = Math.min(header.readUInt32LE(80), MAX_ENTRIES);
      const size = header.readUInt32LE(84);
      if (size < 128 || size > 4096 || !Number.isSafeInteger(entriesLba * sector)) continue;
      const entries = await readAt(handle, entriesLba * sector, count * size);
      for (let i = 0; i + 16 <= entries.length; i += size) {
        if (entries.subarray(i, i + 16).equals(ESP_TYPE)) return 'uefi';
      }
    }
    return 'bios';
  } finally {
    await handle.close();
  }
}
