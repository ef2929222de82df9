// The real qemu-img on small images: a disk read in place inside a tar, and the self-containment checks.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarWriter, readTarIndex } from './ova.js';
import { convertTo, imageSpec, rangeInfo, requireSelfContained, type RangeInfo } from './image-source.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-imgsrc-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function qemuImg(args: string[]): string {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

describe('a disk read in place inside an archive', () => {
  it('is probed, checked and converted without being extracted', async () => {
    const qcow = path.join(dir, 'a.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', qcow, '8M']);
    spawnSync('qemu-io', ['-c', 'write -P 0x61 1M 1M', qcow]);
    const vmdk = path.join(dir, 'a.vmdk');
    qemuImg(['convert', '-O', 'vmdk', '-o', 'subformat=streamOptimized', qcow, vmdk]);
    const ova = path.join(dir, 'a.ova');
    const handle = await fs.promises.open(ova, 'w');
    const tar = new TarWriter(handle);
    await tar.addBuffer('a.ovf', Buffer.from('<Envelope/>'));
    await tar.addFile('a.vmdk', vmdk);
    await tar.finish();
    await handle.close();
    const entry = (await readTarIndex(ova))[1]!;
    const range = { path: ova, offset: entry.offset, size: entry.size };
    const info = await rangeInfo(range, 'vmdk', 'a.vmdk');
    expect(info).toMatchObject({ format: 'vmdk', virtualSize: 8 * 2 ** 20, backing: null, createType: 'streamOptimized', extents: 1 });
    expect(() => requireSelfContained(info, 'a.vmdk', 8 * 2 ** 20)).not.toThrow();
    const out = path.join(dir, 'out.qcow2');
    const seen: number[] = [];
    await convertTo(imageSpec(range, 'vmdk'), out, 'qcow2', { what: 'a.vmdk', onProgress: (f) => seen.push(f) });
    expect(qemuImg(['compare', qcow, out])).toContain('identical');
    expect(seen.at(-1)).toBe(1);
    // Read as the wrong format, it is refused with a clear error and nothing is left.
    await expect(rangeInfo(range, 'qcow2', 'a.vmdk')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const failed = path.join(dir, 'failed.qcow2');
    await expect(convertTo(imageSpec(range, 'vdi'), failed, 'qcow2', { what: 'a.vmdk' })).rejects.toMatchObject({ code: 'QEMU_FAILED' });
    expect(fs.existsSync(failed)).toBe(false);
  });

  it('images that refer to other files are refused from their header, before qemu-img opens them', async () => {
    const base = path.join(dir, 'base.qcow2');
    const top = path.join(dir, 'top.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', base, '4M']);
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
    const whole = (f: string): { path: string; offset: number; size: number } => ({ path: f, offset: 0, size: fs.statSync(f).size });
    await expect(rangeInfo(whole(top), 'qcow2', 'top.qcow2')).rejects.toThrow(/refers to a backing file \(.*base\.qcow2\): refused/);
    // A vmdk text descriptor whose extent is a FIFO: qemu-img would block opening it; it is never run.
    const fifo = path.join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const desc = path.join(dir, 'desc.vmdk');
    fs.writeFileSync(
      desc,
      `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "${fifo}" 0\n`,
    );
    await expect(rangeInfo(whole(desc), 'vmdk', 'desc.vmdk')).rejects.toThrow(/not a sparse or streamOptimized vmdk/);
    const diff = path.join(dir, 'diff.vhd');
    qemuImg(['create', '-q', '-f', 'vpc', diff, '4M']);
    await expect(rangeInfo(whole(diff), 'vpc', 'diff.vhd')).resolves.toMatchObject({ format: 'vpc' });
    const buf = fs.readFileSync(diff);
    buf.writeUInt32BE(4, 60);
    fs.writeFileSync(diff, buf);
    await expect(rangeInfo(whole(diff), 'vpc', 'diff.vhd')).rejects.toThrow(/differencing vhd/);
    await expect(rangeInfo(whole(base), 'vdi', 'base.qcow2')).rejects.toThrow(/not a vdi image/);
  });
});

describe('requireSelfContained', () => {
  const ok: RangeInfo = { format: 'vmdk', virtualSize: 2 ** 30, backing: null, createType: 'streamOptimized', extents: 1, dataFile: null };
  it('refuses what could read host files or lies about its size', () => {
    expect(() => requireSelfContained({ ...ok, createType: 'monolithicFlat' }, 'x', null)).toThrow(/refers to other files/);
    expect(() => requireSelfContained({ ...ok, extents: 2 }, 'x', null)).toThrow(/refers to other files/);
    expect(() => requireSelfContained({ ...ok, format: 'qcow2', dataFile: '/etc/shadow' }, 'x', null)).toThrow(/external file/);
    expect(() => requireSelfContained({ ...ok, virtualSize: 2 ** 60 }, 'x', null)).toThrow(/impossible size/);
    expect(() => requireSelfContained(ok, 'x', 2 ** 29)).toThrow(/lies about its size/);
    // Rounding by the writing tool is not a lie, nor is an image smaller than declared.
    expect(() => requireSelfContained(ok, 'x', 2 ** 30 - 1000)).not.toThrow();
    expect(() => requireSelfContained(ok, 'x', 2 ** 31)).not.toThrow();
  });
});
