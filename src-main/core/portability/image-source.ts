/**
 * Disk images as qemu-img sees them here: a byte range of a file (a disk inside an OVA, read in
 * place through a `raw` node with offset and size) or a whole file or block device, always with an
 * explicit format driver (never probed) and opened read-only. Specs are `json:` file names built
 * with JSON.stringify and passed in an argv array, so a path can never inject an option.
 */
import fs from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';
import { DISK_FORMATS } from '../../api/machine-config.js';
import { syncImage } from '../qemu/qemu-img.js';
import { qemuImgError, qemuImgSummary, runQemuImg, type RunOptions } from '../qemu/qemu-img-run.js';
import { fileReader, readReferences, requireSaneSize } from '../storage/foreign-image.js';
import { sniffImage, type ByteReader, type SniffedFormat } from '../storage/image-header.js';

export interface ImageRange {
  path: string;
  offset: number;
  size: number;
  /** The path is a block device (host_device driver). */
  device?: boolean;
}

export function imageSpec(range: ImageRange, format: string): string {
  const protocol = { driver: range.device ? 'host_device' : 'file', filename: range.path };
  // A whole file is opened as it is. A tar member is a window of the archive: QEMU wants its size
  // in whole sectors, and tar pads every member with zeros to 512 bytes, so rounding up reads padding.
  const whole = range.offset === 0 && !range.device;
  const file = whole ? protocol : { driver: 'raw', offset: range.offset, size: Math.ceil(range.size / 512) * 512, file: protocol };
  const top = format === 'raw' ? { driver: 'raw', 'read-only': true, file } : { driver: format, 'read-only': true, file };
  return `json:${JSON.stringify(top)}`;
}

export interface RangeInfo {
  format: string;
  virtualSize: number;
  backing: string | null;
  createType: string | null;
  extents: number;
  dataFile: string | null;
}

/** A tar member (or whole file) as a byte reader: reads never leave the range. */
async function withRangeReader<T>(range: ImageRange, use: (read: ByteReader) => Promise<T>): Promise<T> {
  const handle = await fs.open(range.path, 'r');
  try {
    return await use(fileReader(handle, range.size, range.offset));
  } finally {
    await handle.close();
  }
}

/**
 * The image's own header, read before qemu-img opens it: opening already follows references (a
 * vmdk text descriptor's extents, a qcow2 external data file), and a reference to a FIFO or a
 * device could hang or read the host. An appliance's image must be what its descriptor says and
 * name no other file at all.
 */
export async function requireSafeHeader(range: ImageRange, format: string, what: string): Promise<void> {
  await withRangeReader(range, async (read) => {
    const sniff = await sniffImage(read, range.size);
    const found = 'format' in sniff ? sniff.format : sniff.unsupported;
    if (!(DISK_FORMATS as readonly string[]).includes(format))
      throw new VmdeskError('INVALID_INPUT', `${what} has an unsupported format (${format}): refused`);
    if (format !== 'raw' && found !== format)
      throw new VmdeskError('INVALID_INPUT', `${what} is not a ${format} image (it is ${found}): refused`);
    if ('format' in sniff && sniff.vmdkKind === 'descriptor' && format === 'vmdk')
      throw new VmdeskError(
        'INVALID_INPUT',
        `${what} is not a sparse or streamOptimized vmdk (a descriptor refers to other files): refused`,
      );
    const refs = await readReferences(read, range.size, format as SniffedFormat, what);
    if (refs.backing)
      throw new VmdeskError('INVALID_INPUT', `${what} refers to a backing file (${refs.backing.name.slice(0, 120)}): refused`);
    if (refs.extentNames.length > 0) throw new VmdeskError('INVALID_INPUT', `${what} refers to other files: refused`);
  });
}

export async function rangeInfo(range: ImageRange, format: string, what: string): Promise<RangeInfo> {
  await requireSafeHeader(range, format, what);
  const r = await runQemuImg(['info', '--output=json', '-U', imageSpec(range, format)], { bounded: true });
  if (r.code !== 0) throw new VmdeskError('INVALID_INPUT', `${what} is not a readable ${format} image: ${qemuImgSummary(r)}`);
  const raw = JSON.parse(r.stdout) as Record<string, unknown>;
  const specific = (raw['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  const backing = raw['backing-filename'] ?? raw['full-backing-filename'];
  return {
    format: String(raw.format),
    virtualSize: Number(raw['virtual-size']),
    backing: typeof backing === 'string' ? backing : null,
    createType: typeof specific['create-type'] === 'string' ? specific['create-type'] : null,
    extents: Array.isArray(specific.extents) ? specific.extents.length : 0,
    dataFile: typeof specific['data-file'] === 'string' ? specific['data-file'] : null,
  };
}

/**
 * An image from an appliance must be self-contained and tell the truth about its size: no backing
 * file, no external data file, no extra vmdk extents (each could read any host file into the
 * VM), and a virtual size VMDesk accepts and that matches what the descriptor declares.
 */
export function requireSelfContained(info: RangeInfo, what: string, declaredBytes: number | null): void {
  if (info.backing !== null)
    throw new VmdeskError('INVALID_INPUT', `${what} refers to a backing file (${info.backing.slice(0, 120)}): refused`);
  if (info.dataFile !== null) throw new VmdeskError('INVALID_INPUT', `${what} keeps its data in an external file: refused`);
  if (info.format === 'vmdk' && (info.extents !== 1 || !['monolithicSparse', 'streamOptimized'].includes(info.createType ?? ''))) {
    throw new VmdeskError('INVALID_INPUT', `${what} is a ${info.createType ?? 'multi-file'} vmdk that refers to other files: refused`);
  }
  requireSaneSize(info.virtualSize, what);
  // Tools round capacities (to sectors, to their units): only an image bigger than declared lies.
  const MiB = 1024 * 1024;
  if (declaredBytes !== null && declaredBytes > 0 && info.virtualSize > Math.ceil(declaredBytes / MiB) * MiB) {
    throw new VmdeskError(
      'INVALID_INPUT',
      `${what} holds ${info.virtualSize} bytes but the descriptor declares ${declaredBytes}: the image lies about its size, refused`,
    );
  }
}

/** Convert a source spec to a new file; the file is removed unless the conversion completes. */
export async function convertTo(
  source: string,
  target: string,
  targetFormat: string,
  opts: RunOptions & { what: string; extra?: string[] },
): Promise<void> {
  await fs.writeFile(target, '', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new VmdeskError('ALREADY_EXISTS', `${target} already exists`);
    throw err;
  });
  try {
    const r = await runQemuImg(['convert', '-p', '-O', targetFormat, ...(opts.extra ?? []), source, target], opts);
    if (r.code !== 0) throw qemuImgError(`convert ${opts.what}`, r);
    await syncImage(target);
  } catch (err) {
    await fs.rm(target, { force: true });
    throw err;
  }
}
