import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TarWriter,
  formatManifest,
  hashRange,
  parseManifest,
  parseNumberField,
  readEntry,
  readTarIndex,
  safeEntryName,
  ustarHeader,
} from './ova.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-ova-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function writeTar(file: string, entries: Array<[string, Buffer]>): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  const tar = new TarWriter(handle);
  for (const [name, data] of entries) await tar.addBuffer(name, data);
  await tar.finish();
  await handle.close();
}

/** A raw ustar header, for archives our writer would never make. */
function header(name: string, size: number, type: string, extra: { linkname?: string; prefix?: string } = {}): Buffer {
  const h = ustarHeader('x', size, 0);
  h.fill(0, 0, 100);
  h.write(name, 0, 'utf8');
  h.write(type, 156, 'latin1');
  if (extra.linkname) h.write(extra.linkname, 157, 'utf8');
  if (extra.prefix) h.write(extra.prefix, 345, 'utf8');
  h.write('        ', 148, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function rawTar(file: string, parts: Buffer[]): void {
  fs.writeFileSync(file, Buffer.concat([...parts, Buffer.alloc(1024)]));
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

describe('TarWriter and readTarIndex', () => {
  it('writes a ustar archive that GNU tar reads, and reads it back', async () => {
    const file = path.join(dir, 'a.ova');
    const big = Buffer.alloc(70_000, 7);
    await writeTar(file, [
      ['vm.ovf', Buffer.from('<Envelope/>')],
      ['vm.mf', Buffer.from('')],
      ['vm-disk001.vmdk', big],
    ]);
    const listing = spawnSync('tar', ['tvf', file], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(/vm\.ovf[\s\S]*vm\.mf[\s\S]*vm-disk001\.vmdk/);
    const out = path.join(dir, 'x');
    fs.mkdirSync(out);
    expect(spawnSync('tar', ['xf', file, '-C', out]).status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'vm-disk001.vmdk')).equals(big)).toBe(true);

    const entries = await readTarIndex(file);
    expect(entries.map((e) => [e.name, e.size])).toEqual([
      ['vm.ovf', 11],
      ['vm.mf', 0],
      ['vm-disk001.vmdk', 70_000],
    ]);
    expect((await readEntry(file, entries[0]!)).toString()).toBe('<Envelope/>');
    const e = entries[2]!;
    expect(await hashRange(file, e.offset, e.size, 'sha256')).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it('reads archives made by GNU tar, with ./ names and a directory entry', async () => {
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.ovf'), 'descriptor');
    fs.writeFileSync(path.join(src, 'a.vmdk'), Buffer.alloc(1000, 1));
    const file = path.join(dir, 'gnu.ova');
    expect(spawnSync('tar', ['--format=ustar', '-cf', file, '-C', src, './a.ovf', './a.vmdk']).status).toBe(0);
    expect((await readTarIndex(file)).map((e) => e.name)).toEqual(['a.ovf', 'a.vmdk']);
    const withDir = path.join(dir, 'gnu-dir.ova');
    expect(spawnSync('tar', ['--format=ustar', '-cf', withDir, '-C', src, '.']).status).toBe(0);
    expect((await readTarIndex(withDir)).map((e) => e.name).sort()).toEqual(['a.ovf', 'a.vmdk']);
  });

  it('writes sizes above 8 GiB in base-256', () => {
    const h = ustarHeader('big.vmdk', 20 * 1024 ** 3, 0);
    expect(h[124]).toBe(0x80);
    expect(parseNumberField(h, 124, 12)).toBe(20 * 1024 ** 3);
  });

  it('refuses path traversal, absolute names, sub-folders and links', async () => {
    for (const [name, type, extra] of [
      ['../evil.vmdk', '0', {}],
      ['/etc/cron.d/x', '0', {}],
      ['sub/dir.vmdk', '0', {}],
      ['x.vmdk', '0', { prefix: '..' }],
      ['link.vmdk', '2', { linkname: '/etc/shadow' }],
      ['hard.vmdk', '1', { linkname: 'vm.ovf' }],
      ['dev', '3', {}],
    ] as const) {
      const file = path.join(dir, `bad-${type}.ova`);
      rawTar(file, [header('vm.ovf', 3, '0'), padded(Buffer.from('abc')), header(name, 0, type, extra)]);
      await expect(readTarIndex(file), name).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/refused/) });
    }
  });

  it('refuses a truncated archive, a corrupt header and duplicate names', async () => {
    const file = path.join(dir, 'full.ova');
    await writeTar(file, [
      ['vm.ovf', Buffer.from('abc')],
      ['vm.vmdk', Buffer.alloc(10_000, 3)],
    ]);
    const whole = fs.readFileSync(file);
    const cut = path.join(dir, 'cut.ova');
    fs.writeFileSync(cut, whole.subarray(0, 512 * 3 + 100));
    await expect(readTarIndex(cut)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/truncated/) });
    const cutHeader = path.join(dir, 'cut-header.ova');
    fs.writeFileSync(cutHeader, whole.subarray(0, 1024 + 100));
    await expect(readTarIndex(cutHeader)).rejects.toThrow(/truncated/);
    const corrupt = Buffer.from(whole);
    corrupt[10] = 0x41;
    fs.writeFileSync(path.join(dir, 'corrupt.ova'), corrupt);
    await expect(readTarIndex(path.join(dir, 'corrupt.ova'))).rejects.toThrow(/bad header/);
    const dup = path.join(dir, 'dup.ova');
    await writeTar(dup, [
      ['vm.ovf', Buffer.from('a')],
      ['vm.ovf', Buffer.from('b')],
    ]);
    await expect(readTarIndex(dup)).rejects.toThrow(/twice/);
  });

  it('reads a pax long name and still checks it', async () => {
    const record = (k: string, v: string): string => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len = String(len).length + body.length;
      return `${len}${body}`;
    };
    const ok = path.join(dir, 'pax.ova');
    const long = `${'n'.repeat(120)}.vmdk`;
    const pax = Buffer.from(record('path', long));
    rawTar(ok, [header('PaxHeader', pax.length, 'x'), padded(pax), header('short', 3, '0'), padded(Buffer.from('abc'))]);
    expect((await readTarIndex(ok)).map((e) => e.name)).toEqual([long]);
    const evil = Buffer.from(record('path', '../../x'));
    const bad = path.join(dir, 'pax-bad.ova');
    rawTar(bad, [header('PaxHeader', evil.length, 'x'), padded(evil), header('short', 3, '0'), padded(Buffer.from('abc'))]);
    await expect(readTarIndex(bad)).rejects.toThrow(/unsafe file name/);
  });

  it('safeEntryName keeps flat names only', () => {
    expect(safeEntryName('./vm.ovf', 'a')).toBe('vm.ovf');
    expect(() => safeEntryName('..', 'a')).toThrow();
    expect(() => safeEntryName('a\\..\\b', 'a')).toThrow();
    expect(() => safeEntryName('a\nb', 'a')).toThrow();
  });
});

describe('manifests', () => {
  it('reads VirtualBox and VMware styles, writes VirtualBox style', () => {
    const lines = parseManifest('SHA256 (vm.ovf) = ABCDEF01\nSHA1(vm-disk1.vmdk)= 0123456789\r\n\n', 'vm.mf');
    expect(lines).toEqual([
      { algorithm: 'sha256', file: 'vm.ovf', digest: 'abcdef01' },
      { algorithm: 'sha1', file: 'vm-disk1.vmdk', digest: '0123456789' },
    ]);
    expect(() => parseManifest('MD5 (x) = 00', 'vm.mf')).toThrow(/unreadable manifest line/);
    expect(formatManifest([{ file: 'a.ovf', sha256: 'ff' }])).toBe('SHA256 (a.ovf) = ff\n');
  });
});
