// A backup manifest is read back from a folder VMDesk does not own: only what the schema allows
// comes through, and the chain a restore reads is computed from it alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainTo, findPoint, readManifest, type Manifest, type PointRecord } from './manifest.js';

const SHA = 'a'.repeat(64);
let dir: string;

function point(n: number, kind: PointRecord['kind']): PointRecord {
  const folder = `${String(n).padStart(4, '0')}-${kind}`;
  return {
    point: n,
    kind,
    createdAt: '2026-12-03T08:00:00.000Z',
    folder,
    bitmap: `vmdesk-backup-${n}`,
    disks: [{ id: 'disk0', file: 'disk0.qcow2', virtualSize: 1024, bytes: 10, sha256: SHA, source: 'disks/disk0.qcow2' }],
    files: [],
  };
}

function manifest(points: PointRecord[]): Manifest {
  return { version: 1, machine: { uuid: '6bd609e5-321e-402e-9188-7302eed4474f', name: 'web' }, points };
}

function write(value: unknown): void {
  fs.writeFileSync(path.join(dir, 'manifest.json'), typeof value === 'string' ? value : JSON.stringify(value));
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-manifest-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('backup manifest', () => {
  it('reads a chain and computes what each point restores from', async () => {
    const m = manifest([point(1, 'full'), point(2, 'incremental'), point(3, 'full'), point(4, 'incremental'), point(5, 'incremental')]);
    write(m);
    const read = await readManifest(dir);
    expect(read).toEqual(m);
    expect(chainTo(m, 2).map((p) => p.point)).toEqual([1, 2]);
    expect(chainTo(m, 5).map((p) => p.point)).toEqual([3, 4, 5]);
    expect(findPoint(m, 'latest').point).toBe(5);
  });

  it('after retention, numbers need not start at 1', async () => {
    const m = manifest([point(4, 'full'), point(5, 'incremental')]);
    write(m);
    expect(await readManifest(dir)).toEqual(m);
    expect(chainTo(m, 5).map((p) => p.point)).toEqual([4, 5]);
    expect(() => findPoint(m, 2)).toThrow(/has no point 2 \(it has 4, 5\)/);
  });

  it('is absent without a manifest', async () => {
    expect(await readManifest(dir)).toBeNull();
  });

  it.each([
    ['a folder outside the chain', { ...point(1, 'full'), folder: '../../etc' }, /not a plain file name/],
    [
      'an absolute image name',
      { ...point(1, 'full'), disks: [{ ...point(1, 'full').disks[0], file: '/etc/passwd' }] },
      /not a plain file name/,
    ],
    ['a hidden folder', { ...point(1, 'full'), folder: '.ssh' }, /not a plain file name/],
    [
      'a kept file outside the machine folder',
      { ...point(1, 'full'), files: [{ path: '../x', sha256: SHA }] },
      /not a plain relative path/,
    ],
    ['a bad checksum', { ...point(1, 'full'), disks: [{ ...point(1, 'full').disks[0], sha256: 'x' }] }, /sha256/],
    ['an unknown field', { ...point(1, 'full'), dataFile: '/etc/shadow' }, /dataFile/],
  ])('refuses %s', async (_what, first, message) => {
    write(manifest([first as PointRecord]));
    await expect(readManifest(dir)).rejects.toThrow(message);
  });

  it('refuses points out of sequence, a chain that starts incremental, and what is not JSON', async () => {
    write(manifest([point(2, 'full'), point(2, 'incremental')]));
    await expect(readManifest(dir)).rejects.toThrow(/out of sequence/);
    write(manifest([point(1, 'incremental')]));
    await expect(readManifest(dir)).rejects.toThrow(/first point is not a full one/);
    write('{"version": 1, ');
    await expect(readManifest(dir)).rejects.toThrow(/not valid JSON/);
  });
});
