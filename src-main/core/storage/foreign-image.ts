/**
 * Every disk image VMDesk did not create (imported, attached in place, added to a machine, inside
 * an appliance) is hostile input until inspected here: an image can name other files — a qcow2
 * backing file (also as a `json:{…}` name or a protocol), an external data file, vmdk extents or a
 * vmdk parent — and QEMU would read them into the guest: any file of the host, `/etc/shadow` or the
 * user's SSH key (the QEMU/OpenStack/Lima CVE class). So:
 * - the path must be a regular file, not a device, FIFO or kernel pseudo-file (host-file.ts);
 * - its format is read from its magic by VMDesk, never probed by QEMU, and passed explicitly;
 * - every name in it is read by VMDesk first (image-header.ts), before qemu-img opens anything
 *   (opening follows names): data files and encryption are refused; vmdk extents must be plain
 *   files beside the descriptor; a backing file must be one the user confirmed, by path, and is
 *   inspected the same way, down the chain;
 * - then `qemu-img info` with the explicit format, without the backing chain, under resource
 *   limits, must agree, and the size must be one VMDesk accepts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import { DISK_FORMATS, type DiskFormat } from '../../api/machine-config.js';
import { requireHostFile } from '../fs/host-file.js';
import { runQemuImg, qemuImgSummary } from '../qemu/qemu-img-run.js';
import {
  isDifferencing,
  parseVmdkDescriptor,
  readQcow2Header,
  readSparseVmdkHeader,
  sniffImage,
  type ByteReader,
  type SniffedFormat,
} from './image-header.js';

/** The largest disk VMDesk accepts (the create schema's limit). */
export const MAX_VIRTUAL_BYTES = 64 * 1024 ** 4;
const MAX_CHAIN = 16;
const MAX_EXTENTS = 256;

export interface ChainLink {
  file: string;
  format: DiskFormat;
}

export interface ForeignImage {
  /** Absolute, as given (QEMU resolves relative backing names against it). */
  path: string;
  format: DiskFormat;
  virtualSize: number;
  /** Backing files under it, top down, each confirmed by the user. Empty for a self-contained image. */
  backing: ChainLink[];
  /** Files a vmdk descriptor reads its data from (beside it). */
  extents: string[];
}

export interface InspectOptions {
  /** The role, for messages: "disk image", "file to import". */
  what: string;
  /** Backing files the user confirmed (absolute paths): a chain is accepted only through these. */
  trustedBacking?: readonly string[];
  /** The format VMDesk opens it as (a machine's disk); by default the one its magic says. */
  format?: DiskFormat;
}

function refuse(message: string, details?: unknown): never {
  throw new VmdeskError('INVALID_INPUT', message, details);
}

/** A reader over a file: bounded reads, zeros past its end. */
export function fileReader(handle: fs.FileHandle, size: number, offset = 0): ByteReader {
  return async (position, length) => {
    const buf = Buffer.alloc(Math.max(0, Math.min(length, 4 * 1024 * 1024)));
    if (position < 0 || position >= size) return buf;
    await handle.read(buf, 0, Math.min(buf.length, size - position), offset + position);
    return buf;
  };
}

export interface References {
  format: SniffedFormat;
  /** The qcow2 backing file, as named, and its recorded format. */
  backing: { name: string; format: string | null } | null;
  /** Extent file names of a vmdk text descriptor. */
  extentNames: string[];
  /** Those of them QEMU opens as sparse vmdk (the others are read as flat, raw data). */
  sparseExtents: string[];
}

/**
 * The names an image holds, after refusing what VMDesk never accepts: external data files,
 * encryption, unknown incompatible features, vmdk parents and deferred descriptors, differencing
 * vdi/vhd. `format` is the format the image will be opened as.
 */
export async function readReferences(read: ByteReader, size: number, format: SniffedFormat, name: string): Promise<References> {
  const refs: References = { format, backing: null, extentNames: [], sparseExtents: [] };
  switch (format) {
    case 'qcow2': {
      const h = await readQcow2Header(read);
      if (!h) refuse(`${name} is not a valid qcow2 image (its header is damaged)`);
      if (h.dataFile !== null)
        refuse(`${name} keeps its data in an external file${h.dataFile ? ` (${h.dataFile.slice(0, 200)})` : ''}: refused`);
      if (h.cryptMethod !== 0) refuse(`${name} is an encrypted qcow2 image, which VMDesk cannot open: refused`);
      if (h.unknownIncompatible !== 0n) refuse(`${name} uses qcow2 features this QEMU does not know: refused`);
      if (h.backingName !== null) refs.backing = { name: h.backingName, format: h.backingFormat };
      break;
    }
    case 'vmdk': {
      const sparse = await readSparseVmdkHeader(read);
      if (sparse) {
        if (sparse.capacity === 0n) refuse(`${name} is a sparse vmdk whose size comes from a descriptor naming other files: refused`);
        if (sparse.descriptor?.parentFileNameHint)
          refuse(
            `${name} is a differencing vmdk that reads from a parent image (${sparse.descriptor.parentFileNameHint.slice(0, 200)}): refused`,
          );
        break;
      }
      const d = parseVmdkDescriptor((await read(0, Math.min(size, 64 * 1024))).toString('latin1'));
      if (d.parentFileNameHint)
        refuse(`${name} is a differencing vmdk that reads from a parent image (${d.parentFileNameHint.slice(0, 200)}): refused`);
      if (d.unreadable.length > 0)
        refuse(`${name} is a vmdk descriptor with a line VMDesk cannot read (${d.unreadable[0] ?? ''}): refused`);
      if (d.extents.length === 0) refuse(`${name} is a vmdk descriptor without extents: refused`);
      if (d.extents.length > MAX_EXTENTS) refuse(`${name} is a vmdk descriptor with ${d.extents.length} extents: refused`);
      for (const e of d.extents) {
        if (e.type === 'ZERO') continue;
        if (!['FLAT', 'SPARSE', 'VMFS'].includes(e.type)) refuse(`${name} has a ${e.type} extent, which VMDesk does not read: refused`);
        refs.extentNames.push(e.file);
        if (e.type === 'SPARSE') refs.sparseExtents.push(e.file);
      }
      break;
    }
    case 'vdi':
    case 'vpc':
      if (await isDifferencing(read, format, size))
        refuse(`${name} is a differencing ${format === 'vdi' ? 'vdi' : 'vhd'} image that reads from a parent: refused`);
      break;
    case 'vhdx':
    case 'raw':
      break;
  }
  return refs;
}

/**
 * A vmdk extent must be a plain file beside its descriptor: a bare name (no folder, no `..`, no
 * protocol), a regular file that is not a symbolic link, itself a flat or self-contained sparse image.
 */
async function checkExtent(descriptor: string, extent: string, sparse: boolean, name: string): Promise<string> {
  if (
    extent === '' ||
    extent !== path.basename(extent) ||
    extent === '.' ||
    extent === '..' ||
    extent.includes(':') ||
    extent.includes('\\')
  )
    refuse(`${name} reads its data from ${JSON.stringify(extent.slice(0, 200))}, which is not a file beside it: refused`);
  const file = path.join(path.dirname(descriptor), extent);
  const link = await fs.lstat(file).catch(() => null);
  if (!link) refuse(`${name} reads its data from ${extent}, which does not exist beside it`);
  if (link.isSymbolicLink()) refuse(`${name} reads its data from ${extent}, a symbolic link: refused`);
  const host = await requireHostFile(file, 'vmdk extent');
  const handle = await fs.open(host.path, 'r');
  try {
    const read = fileReader(handle, host.stat.size);
    const sniff = await sniffImage(read, host.stat.size);
    if ('format' in sniff && sniff.format === 'vmdk' && sniff.vmdkKind === 'sparse')
      await readReferences(read, host.stat.size, 'vmdk', extent);
    else if ('format' in sniff && sniff.format === 'vmdk') refuse(`${name} names another descriptor (${extent}) as an extent: refused`);
    else if (sparse) refuse(`${name} names ${extent} as a sparse extent, but it is not a sparse vmdk: refused`);
  } finally {
    await handle.close();
  }
  return file;
}

/** A backing name as QEMU reads it: a plain path (relative to the image), never `json:` or a protocol. */
function backingPath(image: string, backingName: string, name: string): string {
  if (backingName.startsWith('json:'))
    refuse(`${name} names its backing file with a json: description (${backingName.slice(0, 200)}), which can point anywhere: refused`);
  if (!backingName.startsWith('/') && /^[A-Za-z][\w+.-]*:/.test(backingName))
    refuse(`${name} reads from ${backingName.slice(0, 200)}, a protocol rather than a file: refused`);
  if (backingName.includes('\0')) refuse(`${name} has a backing file name with a NUL byte: refused`);
  return path.resolve(path.dirname(image), backingName);
}

interface Level {
  file: string;
  real: string;
  format: SniffedFormat;
  refs: References;
  extents: string[];
}

async function readLevel(file: string, what: string, claimed: string | null): Promise<Level> {
  const host = await requireHostFile(file, what);
  const handle = await fs.open(host.path, 'r');
  try {
    const size = host.stat.size;
    const read = fileReader(handle, size);
    const sniff = await sniffImage(read, size);
    if ('unsupported' in sniff) refuse(`The ${what} ${file} is a ${sniff.unsupported} image, which VMDesk does not use`);
    let format = sniff.format;
    if (claimed !== null) {
      if (!(DISK_FORMATS as readonly string[]).includes(claimed))
        refuse(`${file} is named as a ${claimed} image, which VMDesk does not use`);
      // What the image above records is what QEMU opens it as: raw needs no agreement.
      if (claimed !== 'raw' && claimed !== format) refuse(`${file} is recorded as ${claimed} but is a ${format} image: refused`);
      format = claimed;
    }
    if (format === 'raw' && size < 512) refuse(`The ${what} ${file} holds ${size} bytes: too small to be a disk image`);
    const refs = await readReferences(read, size, format, `The ${what} ${file}`);
    const extents: string[] = [];
    for (const e of refs.extentNames) extents.push(await checkExtent(file, e, refs.sparseExtents.includes(e), `The ${what} ${file}`));
    return { file, real: host.path, format, refs, extents };
  } finally {
    await handle.close();
  }
}

interface QemuInfo {
  format: string;
  virtualSize: number;
  backing: string | null;
  dataFile: string | null;
  extentFiles: string[];
}

/** `qemu-img info` with the explicit format, no backing chain, under limits. */
async function boundedInfo(file: string, format: string, what: string): Promise<QemuInfo> {
  const spec = `json:${JSON.stringify({ driver: format, 'read-only': true, file: { driver: 'file', filename: file } })}`;
  const r = await runQemuImg(['info', '--output=json', '-U', spec], { bounded: true });
  if (r.code !== 0) refuse(`The ${what} ${file} is not a readable ${format} image: ${qemuImgSummary(r)}`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    refuse(`The ${what} ${file} could not be read by qemu-img`);
  }
  const specific = (raw['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  const backing = raw['backing-filename'] ?? raw['full-backing-filename'];
  const extents = Array.isArray(specific.extents) ? (specific.extents as Array<Record<string, unknown>>) : [];
  return {
    format: String(raw.format),
    virtualSize: Number(raw['virtual-size']),
    backing: typeof backing === 'string' ? backing : null,
    dataFile: typeof specific['data-file'] === 'string' ? specific['data-file'] : null,
    extentFiles: extents.map((e) => String(e.filename)),
  };
}

export function requireSaneSize(virtualSize: number, name: string): void {
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize > MAX_VIRTUAL_BYTES)
    refuse(`${name} claims an impossible size of ${virtualSize} bytes (VMDesk takes up to 64 TiB): refused`);
}

/**
 * Inspect an image VMDesk did not create. Throws INVALID_INPUT naming the reference for anything
 * that could reach a host file; a chain of backing files is accepted only when each one is in
 * `trustedBacking` (the error lists the whole chain, for the user to confirm).
 */
export async function inspectForeignImage(file: string, opts: InspectOptions): Promise<ForeignImage> {
  const abs = path.resolve(file);
  const levels: Level[] = [await readLevel(abs, opts.what, opts.format ?? null)];
  // Walk the chain with VMDesk's own reader first: nothing is opened by QEMU before all is known.
  const seen = new Set([levels[0]?.real]);
  for (let level = levels[0]; level?.refs.backing;) {
    const name = `The ${opts.what} ${level.file}`;
    const { backing } = level.refs;
    const next = backingPath(level.file, backing.name, name);
    if (backing.format === null)
      refuse(
        `${name} does not record the format of its backing file ${next}, so QEMU would have to guess it: refused. ` +
          `If you trust that file, record its format: qemu-img rebase -u -F FORMAT -b ${next} ${level.file}`,
      );
    if (levels.length > MAX_CHAIN) refuse(`${name} is in a chain of more than ${MAX_CHAIN} backing files: refused`);
    const below = await readLevel(next, 'backing file', backing.format);
    if (seen.has(below.real)) refuse(`${name} is in a backing chain that loops back to ${next}: refused`);
    seen.add(below.real);
    levels.push(below);
    level = below;
  }
  const top = levels[0] as Level;
  const chain = levels.slice(1).map((l) => ({ file: l.file, format: l.format }));
  if (chain.length > 0) {
    const trusted = new Set(
      await Promise.all((opts.trustedBacking ?? []).map((t) => fs.realpath(path.resolve(t)).catch(() => path.resolve(t)))),
    );
    const untrusted = levels.slice(1).filter((l) => !trusted.has(l.real));
    if (untrusted.length > 0) {
      const list = chain.map((l) => `${l.file} (${l.format})`).join(' → ');
      refuse(
        `The ${opts.what} ${abs} reads from backing files: ${list}. A downloaded image can use a backing file to read any file ` +
          `of this computer, so VMDesk uses a chain only when you confirm every file of it: ` +
          untrusted.map((l) => `--trust-backing ${l.file}`).join(' '),
        { reason: 'untrusted-backing', chain, untrusted: untrusted.map((l) => l.file) },
      );
    }
  }
  // Now qemu-img, one image at a time, with the format VMDesk chose: it must see what VMDesk saw.
  let virtualSize = 0;
  for (const l of levels) {
    const info = await boundedInfo(l.file, l.format, l === top ? opts.what : 'backing file');
    const name = `The ${l === top ? opts.what : 'backing file'} ${l.file}`;
    if (info.format !== l.format) refuse(`${name} opens as ${info.format}, not ${l.format}: refused`);
    if (info.dataFile !== null) refuse(`${name} keeps its data in an external file (${info.dataFile.slice(0, 200)}): refused`);
    if ((info.backing ?? null) !== (l.refs.backing?.name ?? null)) refuse(`${name} names a backing file VMDesk could not read: refused`);
    const allowed = new Set(l.extents.map((e) => path.resolve(e)));
    if (l.format === 'vmdk' && l.extents.length === 0 && info.extentFiles.some((e) => path.resolve(path.dirname(l.file), e) !== l.file))
      refuse(`${name} reads from other files: refused`);
    for (const e of l.extents.length > 0 ? info.extentFiles : [])
      if (!allowed.has(path.resolve(path.dirname(l.file), e))) refuse(`${name} reads its data from ${e.slice(0, 200)}: refused`);
    requireSaneSize(info.virtualSize, name);
    if (l === top) virtualSize = info.virtualSize;
  }
  return { path: abs, format: top.format, virtualSize, backing: chain, extents: top.extents };
}
