/**
 * What an image file says about itself, read from its own bytes by VMDesk, never by QEMU's format
 * probe: which format it is, and every other file it names (a qcow2 backing file or external data
 * file, a vmdk's extents and parent). Opening an image in QEMU or qemu-img already follows those
 * names, so they are read here first, from a byte reader, with every offset and length bounded.
 * Pure functions over a reader: the OVA code reads a tar member through the same interface.
 */

/** Reads `length` bytes at `position`; bytes past the end read as zeros. */
export type ByteReader = (position: number, length: number) => Promise<Buffer>;

/** Formats VMDesk recognises by their magic. Everything else is raw data. */
export type SniffedFormat = 'qcow2' | 'vmdk' | 'vdi' | 'vpc' | 'vhdx' | 'raw';

export type Sniff = { format: SniffedFormat; vmdkKind?: 'sparse' | 'descriptor' } | { unsupported: string };

const QCOW_MAGIC = 0x514649fb;
const VDI_MAGIC = 0xbeda107f;
/** QEMU reads a vmdk text descriptor of at most this size; anything larger is not one. */
const MAX_DESCRIPTOR = 64 * 1024;

const OTHER_MAGICS: Array<[string, number, string]> = [
  ['QED\0', 0, 'QED'],
  ['COWD', 0, 'VMware 3 (COWD) vmdk'],
  ['LUKS\xba\xbe', 0, 'LUKS-encrypted'],
  ['WithoutFreeSpace', 0, 'Parallels'],
  ['WithouFreSpacExt', 0, 'Parallels'],
  ['Bochs Virtual HD Image', 0, 'Bochs'],
  ['#!/bin/sh\n#V2.0 Format', 0, 'cloop'],
];

/**
 * The format from the first 1 KiB of the file and its last 512 bytes (a fixed vhd keeps its
 * footer at the end). A text vmdk descriptor is recognised by its first line, as VMware writes it.
 */
export function sniffFormat(head: Buffer, tail: Buffer, size: number): Sniff {
  const latin = head.toString('latin1');
  if (head.length >= 8 && head.readUInt32BE(0) === QCOW_MAGIC) {
    const version = head.readUInt32BE(4);
    return version === 2 || version === 3 ? { format: 'qcow2' } : { unsupported: `qcow version ${version}` };
  }
  if (latin.startsWith('KDMV')) return { format: 'vmdk', vmdkKind: 'sparse' };
  if (latin.startsWith('vhdxfile')) return { format: 'vhdx' };
  if (latin.startsWith('conectix') || tail.toString('latin1', 0, 8) === 'conectix') return { format: 'vpc' };
  if (head.length >= 68 && head.readUInt32LE(64) === VDI_MAGIC) return { format: 'vdi' };
  for (const [magic, at, name] of OTHER_MAGICS) if (latin.startsWith(magic, at)) return { unsupported: name };
  if (tail.toString('latin1', 0, 4) === 'koly') return { unsupported: 'Apple DMG' };
  if (size <= MAX_DESCRIPTOR && /^\s*#\s*Disk\s+DescriptorFile/i.test(latin)) return { format: 'vmdk', vmdkKind: 'descriptor' };
  return { format: 'raw' };
}

/** sniffFormat over a reader: the first 1 KiB and the last 512 bytes of an image of `size` bytes. */
export async function sniffImage(read: ByteReader, size: number): Promise<Sniff> {
  return sniffFormat(await read(0, 1024), await read(Math.max(0, size - 512), 512), size);
}

export interface Qcow2Header {
  version: number;
  virtualSize: bigint;
  clusterBits: number;
  /** The backing file name as written (null: none). */
  backingName: string | null;
  /** The backing file's format from the header extension (null: QEMU would probe it). */
  backingFormat: string | null;
  /** An external data file: its name when the extension gives one, '' when only the feature bit says so. */
  dataFile: string | null;
  /** crypt_method: 0 none, 1 AES, 2 LUKS. */
  cryptMethod: number;
  /** The image is marked corrupt (incompatible feature bit 1). */
  corrupt: boolean;
  /** Incompatible feature bits QEMU 7.2 does not know (it refuses to open such an image). */
  unknownIncompatible: bigint;
}

const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_DATA_FILE = 0x44415441;
const KNOWN_INCOMPATIBLE = 0b11111n;

/** A qcow2 header and its extensions; null when the bytes are not a coherent qcow2 header. */
export async function readQcow2Header(read: ByteReader): Promise<Qcow2Header | null> {
  const h = await read(0, 112);
  if (h.readUInt32BE(0) !== QCOW_MAGIC) return null;
  const version = h.readUInt32BE(4);
  if (version !== 2 && version !== 3) return null;
  const clusterBits = h.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) return null;
  const clusterSize = 2 ** clusterBits;
  const backingOffset = h.readBigUInt64BE(8);
  const backingSize = h.readUInt32BE(16);
  const incompatible = version >= 3 ? h.readBigUInt64BE(72) : 0n;
  const headerLength = version >= 3 ? h.readUInt32BE(100) : 72;
  if (headerLength < 72 || headerLength > clusterSize) return null;
  const header: Qcow2Header = {
    version,
    virtualSize: h.readBigUInt64BE(24),
    clusterBits,
    backingName: null,
    backingFormat: null,
    dataFile: (incompatible & 4n) !== 0n ? '' : null,
    cryptMethod: h.readUInt32BE(32),
    corrupt: (incompatible & 2n) !== 0n,
    unknownIncompatible: incompatible & ~KNOWN_INCOMPATIBLE,
  };
  if (backingOffset !== 0n) {
    // QEMU: the name lies in the first cluster and is at most 1023 bytes.
    if (backingSize === 0 || backingSize > 1023 || backingOffset + BigInt(backingSize) > BigInt(clusterSize)) return null;
    header.backingName = (await read(Number(backingOffset), backingSize)).toString('utf8');
  }
  // Header extensions follow the header, inside the first cluster (QEMU reads no further).
  const area = await read(headerLength, clusterSize - headerLength);
  for (let at = 0; at + 8 <= area.length;) {
    const type = area.readUInt32BE(at);
    const length = area.readUInt32BE(at + 4);
    if (type === EXT_END) break;
    if (at + 8 + length > area.length) return null;
    const data = area.subarray(at + 8, at + 8 + length);
    if (type === EXT_BACKING_FORMAT) header.backingFormat = data.toString('utf8').replace(/\0+$/, '');
    if (type === EXT_DATA_FILE) header.dataFile = data.toString('utf8').replace(/\0+$/, '');
    at += 8 + Math.ceil(length / 8) * 8;
  }
  return header;
}

export interface VmdkExtent {
  access: string;
  sectors: number;
  type: string;
  file: string;
}

export interface VmdkDescriptor {
  createType: string | null;
  parentFileNameHint: string | null;
  extents: VmdkExtent[];
  /** Lines that name a file in quotes but that VMDesk cannot read as an extent: refused, never ignored. */
  unreadable: string[];
}

const EXTENT_LINE = /^(RW|RDONLY|NOACCESS|RDWR)\s+(\d+)\s+([A-Za-z]+)(?:\s+"([^"]*)"(?:\s+\d+)?)?\s*$/i;
const KEY_LINE = /^([A-Za-z][\w.]*)\s*=\s*"?([^"]*)"?\s*$/;

/**
 * A vmdk text descriptor (the file itself, or the one embedded in a sparse extent). Every line is
 * classified: comments, `key = value`, extents; any other line that quotes a name is reported,
 * so a line QEMU's looser parser would read as an extent never slips past.
 */
export function parseVmdkDescriptor(text: string): VmdkDescriptor {
  const d: VmdkDescriptor = { createType: null, parentFileNameHint: null, extents: [], unreadable: [] };
  for (const raw of text.split(/[\r\n]+/)) {
    const line = raw.replace(/\0.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const extent = EXTENT_LINE.exec(line);
    if (extent) {
      d.extents.push({ access: extent[1] ?? '', sectors: Number(extent[2]), type: (extent[3] ?? '').toUpperCase(), file: extent[4] ?? '' });
      continue;
    }
    const kv = KEY_LINE.exec(line);
    if (kv) {
      const key = (kv[1] ?? '').toLowerCase();
      if (key === 'createtype') d.createType = kv[2] ?? null;
      if (key === 'parentfilenamehint') d.parentFileNameHint = kv[2] ?? null;
      continue;
    }
    if (line.includes('"') || /\b(RW|RDONLY|NOACCESS|RDWR)\b/i.test(line)) d.unreadable.push(line.slice(0, 200));
  }
  return d;
}

export interface SparseVmdkHeader {
  /** In 512-byte sectors; 0 means QEMU reads the embedded descriptor's extents instead. */
  capacity: bigint;
  descriptor: VmdkDescriptor | null;
}

/** A sparse (KDMV) vmdk header with its embedded descriptor, if it has one. */
export async function readSparseVmdkHeader(read: ByteReader): Promise<SparseVmdkHeader | null> {
  const h = await read(0, 512);
  if (h.toString('latin1', 0, 4) !== 'KDMV') return null;
  const capacity = h.readBigUInt64LE(12);
  const descOffset = h.readBigUInt64LE(28);
  const descSize = h.readBigUInt64LE(36);
  if (descOffset === 0n || descSize === 0n) return { capacity, descriptor: null };
  const bytes = Number(descSize > 2048n ? 2048n : descSize) * 512;
  const text = (await read(Number(descOffset) * 512, bytes)).toString('latin1');
  return { capacity, descriptor: parseVmdkDescriptor(text) };
}

/** VDI image type 4 and VHD disk type 4 are differencing images: they name a parent. */
export async function isDifferencing(read: ByteReader, format: 'vdi' | 'vpc', size: number): Promise<boolean> {
  if (format === 'vdi') return (await read(0, 80)).readUInt32LE(76) === 4;
  const head = await read(0, 512);
  const footer = head.toString('latin1', 0, 8) === 'conectix' ? head : await read(Math.max(0, size - 512), 512);
  return footer.toString('latin1', 0, 8) === 'conectix' && footer.readUInt32BE(60) === 4;
}
