/**
 * The OVA container: a POSIX tar (ustar) read and written here, never by an extracting tool. The
 * reader only indexes entries (name, size, offset of the data); their bytes stay in the OVA and are
 * read in place (hashed, or opened by qemu-img through a raw offset/size node), so an entry can
 * never be written to a path of its choosing. Anything but a flat regular file is refused.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { VmdeskError } from '../../api/errors.js';

export const BLOCK = 512;
/** The largest size the 11 octal digits of a ustar header hold; bigger sizes use base-256. */
const MAX_OCTAL_SIZE = 0o77777777777;
/** OVF descriptors and manifests are small; a bigger "descriptor" is refused rather than loaded. */
export const MAX_SMALL_ENTRY = 16 * 1024 * 1024;

export interface TarEntry {
  name: string;
  size: number;
  /** Byte offset of the entry's data in the archive. */
  offset: number;
}

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

/** A numeric header field: octal text, or GNU base-256 (high bit of the first byte set). */
export function parseNumberField(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    if (((field[0] ?? 0) & 0x40) !== 0) return NaN; // negative
    let value = (field[0] ?? 0) & 0x3f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return Number.isSafeInteger(value) ? value : NaN;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return NaN;
  return parseInt(text, 8);
}

function headerChecksumOk(header: Buffer): boolean {
  const stored = parseNumberField(header, 148, 8);
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return stored === unsigned;
}

/**
 * An entry name as it may appear in an OVA: one flat file name (an optional leading `./` is
 * dropped). Absolute names, `..`, sub-folders, backslashes and control characters are refused.
 */
export function safeEntryName(raw: string, archive: string): string {
  const name = raw.startsWith('./') ? raw.slice(2) : raw;
  const bad =
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.startsWith('/') ||
    name.includes('/') ||
    name.includes('\\') ||
    /[\u0000-\u001f\u007f]/.test(name);
  if (bad) {
    throw new VmdeskError(
      'INVALID_INPUT',
      `${archive} holds an unsafe file name "${raw.slice(0, 200)}" (path traversal or sub-folder): refused`,
    );
  }
  return name;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= 0 || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/**
 * Index every entry of a tar archive. Refuses links, devices, folders (but `./`), unsafe names,
 * duplicate names, bad header checksums and entries whose data runs past the end of the file.
 */
export async function readTarIndex(file: string): Promise<TarEntry[]> {
  const handle = await fs.open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const entries: TarEntry[] = [];
    const seen = new Set<string>();
    const header = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | null = null;
    let pax: Record<string, string> = {};
    for (;;) {
      if (pos + BLOCK > fileSize) {
        if (pos === fileSize && entries.length > 0) break; // no end-of-archive blocks: tolerated
        throw new VmdeskError('INVALID_INPUT', `${file} is truncated: it ends inside a tar header at byte ${pos}`);
      }
      await readExactly(handle, header, pos);
      if (header.every((b) => b === 0)) break;
      if (!headerChecksumOk(header))
        throw new VmdeskError('INVALID_INPUT', `${file} is not a valid tar (OVA) archive: bad header at byte ${pos}`);
      const type = String.fromCharCode(header[156] ?? 0);
      const size = parseNumberField(header, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0) throw new VmdeskError('INVALID_INPUT', `${file}: invalid entry size at byte ${pos}`);
      const dataOffset = pos + BLOCK;
      const effectiveSize = type === 'x' || type === 'g' || type === 'L' ? size : pax.size !== undefined ? Number(pax.size) : size;
      if (!Number.isSafeInteger(effectiveSize) || effectiveSize < 0) throw new VmdeskError('INVALID_INPUT', `${file}: invalid entry size`);
      if (dataOffset + effectiveSize > fileSize) {
        throw new VmdeskError(
          'INVALID_INPUT',
          `${file} is truncated: an entry needs ${effectiveSize} bytes at byte ${dataOffset} but the file ends at ${fileSize}`,
        );
      }
      const next = dataOffset + Math.ceil(effectiveSize / BLOCK) * BLOCK;
      if (type === 'x' || type === 'g' || type === 'L') {
        if (size > MAX_SMALL_ENTRY) throw new VmdeskError('INVALID_INPUT', `${file}: oversized tar extension header`);
        const data = Buffer.alloc(size);
        await readExactly(handle, data, dataOffset);
        if (type === 'x') pax = parsePax(data);
        if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        pos = next;
        continue;
      }
      const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
      const prefix = ustar ? cString(header, 345, 155) : '';
      const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
      longName = null;
      pax = {};
      if (type === '5' && (rawName === './' || rawName === '.')) {
        pos = next;
        continue;
      }
      if (type === '1' || type === '2') {
        throw new VmdeskError(
          'INVALID_INPUT',
          `${file} holds a ${type === '2' ? 'symbolic' : 'hard'} link "${rawName.slice(0, 200)}": refused`,
        );
      }
      if (type !== '0' && type !== '\0' && type !== '7') {
        throw new VmdeskError(
          'INVALID_INPUT',
          `${file} holds "${rawName.slice(0, 200)}", which is not a regular file (tar type ${JSON.stringify(type)}): refused`,
        );
      }
      const name = safeEntryName(rawName, file);
      if (seen.has(name)) throw new VmdeskError('INVALID_INPUT', `${file} holds "${name}" twice: refused`);
      seen.add(name);
      entries.push({ name, size: effectiveSize, offset: dataOffset });
      pos = next;
    }
    return entries;
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: fs.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new VmdeskError('INVALID_INPUT', `Unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** A small entry (descriptor, manifest) read into memory. */
export async function readEntry(file: string, entry: TarEntry): Promise<Buffer> {
  if (entry.size > MAX_SMALL_ENTRY) throw new VmdeskError('INVALID_INPUT', `${entry.name} is too large (${entry.size} bytes)`);
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(entry.size);
    await readExactly(handle, buf, entry.offset);
    return buf;
  } finally {
    await handle.close();
  }
}

const CHUNK = 4 * 1024 * 1024;

/** The hex digest of `length` bytes of `file` from `offset`, reporting bytes as they are read. */
export async function hashRange(
  file: string,
  offset: number,
  length: number,
  algorithm: string,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<string> {
  const hash = createHash(algorithm);
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(1, length)));
    let done = 0;
    while (done < length) {
      if (opts.signal?.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
      const want = Math.min(buf.length, length - done);
      const { bytesRead } = await handle.read(buf, 0, want, offset + done);
      if (bytesRead === 0) throw new VmdeskError('INVALID_INPUT', `${file} is truncated`);
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
      opts.onBytes?.(bytesRead);
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** A ustar header for a regular file; sizes beyond 8 GiB are written in base-256 (GNU, read by bsdtar, IPRT, Python). */
export function ustarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100 || name.includes('/')) throw new VmdeskError('INTERNAL', `Tar entry name too long or not flat: ${name}`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  if (size <= MAX_OCTAL_SIZE) h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  else {
    let v = size;
    for (let i = 135; i > 124; i--) {
      h[i] = v % 256;
      v = Math.floor(v / 256);
    }
    h[124] = 0x80;
  }
  h.write(`${Math.floor(mtimeSeconds).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** Writes a tar archive entry by entry into an open file. */
export class TarWriter {
  private position = 0;
  private readonly mtime = Math.floor(Date.now() / 1000);

  constructor(private readonly handle: fs.FileHandle) {}

  private async write(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, done, buf.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += buf.length;
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.write(Buffer.alloc(BLOCK - rest));
  }

  async addBuffer(name: string, data: Buffer): Promise<void> {
    await this.write(ustarHeader(name, data.length, this.mtime));
    await this.write(data);
    await this.pad(data.length);
  }

  async addFile(name: string, source: string, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<void> {
    const input = await fs.open(source, 'r');
    try {
      const { size } = await input.stat();
      await this.write(ustarHeader(name, size, this.mtime));
      const buf = Buffer.alloc(CHUNK);
      let done = 0;
      while (done < size) {
        if (opts.signal?.aborted) throw new VmdeskError('CANCELLED', 'Cancelled');
        const { bytesRead } = await input.read(buf, 0, Math.min(CHUNK, size - done), done);
        if (bytesRead === 0) throw new VmdeskError('IO', `${source} shrank while it was being archived`);
        await this.write(buf.subarray(0, bytesRead));
        done += bytesRead;
        opts.onBytes?.(bytesRead);
      }
      await this.pad(size);
    } finally {
      await input.close();
    }
  }

  /** Two zero blocks end a tar archive. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }
}

export interface ManifestLine {
  algorithm: 'sha1' | 'sha256' | 'sha512';
  file: string;
  digest: string;
}

/**
 * An OVF manifest: `SHA256 (name) = hex` (VirtualBox) or `SHA1(name)= hex` (VMware ovftool).
 * Unknown lines are an error: a manifest we cannot read proves nothing.
 */
export function parseManifest(text: string, what: string): ManifestLine[] {
  const lines: ManifestLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^(SHA1|SHA256|SHA512)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)$/.exec(line);
    if (!m) throw new VmdeskError('INVALID_INPUT', `${what}: unreadable manifest line "${line.slice(0, 120)}"`);
    lines.push({
      algorithm: (m[1] ?? 'SHA256').toLowerCase() as ManifestLine['algorithm'],
      file: m[2] ?? '',
      digest: (m[3] ?? '').toLowerCase(),
    });
  }
  return lines;
}

export function formatManifest(lines: Array<{ file: string; sha256: string }>): string {
  return lines.map((l) => `SHA256 (${l.file}) = ${l.sha256}\n`).join('');
}
