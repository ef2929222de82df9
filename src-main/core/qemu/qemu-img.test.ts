// parseSize and the progress parser are pure; the rest runs the real qemu-img on small images (fast, no guest).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffFormat } from '../storage/image-header.js';
import { checkImage, convertImage, createImage, createProgressParser, imageInfo, parseSize, resizeImage } from './qemu-img.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('parseSize', () => {
  it.each([
    ['1024', 1024],
    ['512M', 512 * MiB],
    ['10G', 10 * GiB],
    ['20g', 20 * GiB],
    ['1.5GiB', 1.5 * GiB],
    ['1.5 GB', 1.5 * GiB],
    ['64k', 64 * 1024],
    ['2T', 2 * 2 ** 40],
    ['4096B', 4096],
    [' 8M ', 8 * MiB],
    ['.5K', 512],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'abc', '10X', 'G', '10 G B', '1e9', '-1G', '0', '0M', '0.0001', '1,5G', '10GiBs', '99999999P'])(
    'rejects %j with INVALID_INPUT',
    (text) => {
      expect(() => parseSize(text)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    },
  );
});

describe('createProgressParser', () => {
  it('reads \\r-separated figures and keeps the latest of a chunk', () => {
    const parse = createProgressParser();
    expect(parse('    (0.00/100%)\r')).toBe(0);
    expect(parse('    (12.34/100%)\r    (25.50/100%)\r')).toBeCloseTo(0.255);
    expect(parse('    (100.00/100%)\r\n')).toBe(1);
  });

  it('joins a figure split across chunks and ignores noise', () => {
    const parse = createProgressParser();
    expect(parse('    (4')).toBeNull();
    expect(parse('2.')).toBeNull();
    expect(parse('5/100%)\r')).toBeCloseTo(0.425);
    expect(parse('garbage\n')).toBeNull();
    expect(parse('(50/100%)')).toBe(0.5);
  });
});

describe('qemu-img on real images', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-img-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const file = (name: string): string => path.join(dir, name);

  it('creates qcow2 and raw images and reads their info', async () => {
    await createImage(file('a.qcow2'), 'qcow2', 64 * MiB);
    await createImage(file('a.raw'), 'raw', 32 * MiB);
    await expect(imageInfo(file('a.qcow2'), 'qcow2')).resolves.toMatchObject({ format: 'qcow2', virtualSize: 64 * MiB, dirty: false });
    const raw = await imageInfo(file('a.raw'), 'raw');
    expect(raw).toMatchObject({ format: 'raw', virtualSize: 32 * MiB });
    expect(raw.actualSize).toBeGreaterThanOrEqual(0);
    expect(raw.backingFile).toBeUndefined();
    await expect(checkImage(file('a.qcow2'), 'qcow2')).resolves.toEqual({ supported: true, leaks: 0 });
    await expect(checkImage(file('a.raw'), 'raw')).resolves.toEqual({ supported: false, leaks: 0 });
  });

  it('refuses to overwrite, and rejects bad sizes', async () => {
    await createImage(file('b.qcow2'), 'qcow2', MiB);
    await expect(createImage(file('b.qcow2'), 'qcow2', MiB)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(createImage(file('c.qcow2'), 'qcow2', 0)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(createImage(file('c.qcow2'), 'qcow2', 1.5)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('creates an overlay on a backing file', async () => {
    await createImage(file('base.qcow2'), 'qcow2', 16 * MiB);
    await expect(createImage(file('guess.qcow2'), 'qcow2', 16 * MiB, { backingFile: file('base.qcow2') })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await createImage(file('overlay.qcow2'), 'qcow2', 16 * MiB, { backingFile: file('base.qcow2'), backingFormat: 'qcow2' });
    await expect(imageInfo(file('overlay.qcow2'), 'qcow2')).resolves.toMatchObject({ format: 'qcow2', backingFile: file('base.qcow2') });
  });

  it('resolves relative names as files, never as protocols', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await fs.writeFile(file('json:{}'), Buffer.alloc(4096));
      await expect(imageInfo('json:{}', 'raw')).resolves.toMatchObject({ format: 'raw', virtualSize: 4096 });
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports a missing file as NOT_FOUND', async () => {
    await expect(imageInfo(file('missing.qcow2'), 'qcow2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('converts qcow2 to vmdk, vdi, vhdx and raw and back, reporting progress', async () => {
    // Some written data, so the converted images have something to carry.
    await fs.writeFile(file('data.raw'), Buffer.concat([randomBytes(MiB), Buffer.alloc(7 * MiB)]));
    await convertImage(file('data.raw'), 'raw', file('src.qcow2'), 'qcow2');
    for (const format of ['vmdk', 'vdi', 'vhdx', 'raw']) {
      const seen: number[] = [];
      await convertImage(file('src.qcow2'), 'qcow2', file(`x.${format}`), format, { onProgress: (f) => seen.push(f) });
      expect(seen.at(-1)).toBe(1);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      const bytes = await fs.readFile(file(`x.${format}`));
      expect(sniffFormat(bytes.subarray(0, 1024), bytes.subarray(-512), bytes.length)).toMatchObject({ format });
      await convertImage(file(`x.${format}`), format, file(`back-${format}.raw`), 'raw');
      const [original, back] = await Promise.all([fs.readFile(file('data.raw')), fs.readFile(file(`back-${format}.raw`))]);
      expect(back.subarray(0, original.length).equals(original)).toBe(true);
    }
  });

  it('refuses to convert onto an existing file and leaves it alone', async () => {
    await fs.writeFile(file('keep.raw'), 'precious');
    await expect(convertImage(file('src.qcow2'), 'qcow2', file('keep.raw'), 'raw')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(fs.readFile(file('keep.raw'), 'utf8')).resolves.toBe('precious');
  });

  it('cancels a conversion mid-way and removes the partial destination', async () => {
    const chunk = randomBytes(MiB);
    const handle = await fs.open(file('big.raw'), 'w');
    for (let i = 0; i < 256; i++) await handle.write(chunk);
    await handle.close();
    const ac = new AbortController();
    const seen: number[] = [];
    const started = Date.now();
    await expect(
      convertImage(file('big.raw'), 'raw', file('big.vdi'), 'vdi', {
        signal: ac.signal,
        onProgress: (f) => {
          seen.push(f);
          if (f > 0) ac.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen.at(-1)).toBeLessThan(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(fs.stat(file('big.vdi'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does nothing when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(convertImage(file('src.qcow2'), 'qcow2', file('never.vdi'), 'vdi', { signal: ac.signal })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    await expect(fs.stat(file('never.vdi'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes the partial destination when a conversion fails', async () => {
    await expect(convertImage(file('src.qcow2'), 'qcow2', file('bad.img'), 'no-such-format')).rejects.toMatchObject({
      code: 'QEMU_FAILED',
      message: expect.stringContaining('no-such-format'),
    });
    await expect(fs.stat(file('bad.img'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('grows an image and refuses to shrink it unless asked', async () => {
    await createImage(file('grow.qcow2'), 'qcow2', 16 * MiB);
    await resizeImage(file('grow.qcow2'), 'qcow2', 32 * MiB);
    await expect(imageInfo(file('grow.qcow2'), 'qcow2')).resolves.toMatchObject({ virtualSize: 32 * MiB });
    await expect(resizeImage(file('grow.qcow2'), 'qcow2', 8 * MiB)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await resizeImage(file('grow.qcow2'), 'qcow2', 8 * MiB, { allowShrink: true });
    await expect(imageInfo(file('grow.qcow2'), 'qcow2')).resolves.toMatchObject({ virtualSize: 8 * MiB });
  });

  it('reports a truncated or overwritten qcow2 header as INVALID_INPUT with qemu-img’s words', async () => {
    await createImage(file('trunc.qcow2'), 'qcow2', 16 * MiB);
    await fs.truncate(file('trunc.qcow2'), 100);
    await expect(imageInfo(file('trunc.qcow2'), 'qcow2')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('qcow2 header too short'),
    });
    await createImage(file('garbled.qcow2'), 'qcow2', 16 * MiB);
    const h = await fs.open(file('garbled.qcow2'), 'r+');
    await h.write(Buffer.from('garbage!'), 0, 8, 4); // the version field, just after the magic
    await h.close();
    await expect(imageInfo(file('garbled.qcow2'), 'qcow2')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('Unsupported qcow2 version'),
    });
  });

  it('reports a qcow2 with corrupt metadata as INVALID_INPUT from checkImage', async () => {
    await createImage(file('meta.qcow2'), 'qcow2', 16 * MiB);
    // The refcount table starts at cluster 1 (64 KiB) in a fresh qcow2.
    const h = await fs.open(file('meta.qcow2'), 'r+');
    await h.write(Buffer.alloc(4096, 0xa5), 0, 4096, 65536);
    await h.close();
    await expect(checkImage(file('meta.qcow2'), 'qcow2')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('corrupt'),
    });
  });
});
