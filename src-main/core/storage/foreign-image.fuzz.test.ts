// Differential fuzzing of the foreign-image inspector against QEMU itself. Real images made by
// qemu-img (and vmdk descriptors with tricky extent lines) are mutated in their headers; whenever the
// inspector accepts one, qemu-img — opening it the way QEMU will, with the format VMDesk chose and
// following everything — must find no other file behind it. Otherwise the inspector refuses it with
// INVALID_INPUT, never an internal error.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { toErrorShape } from '../../api/errors.js';
import { fuzzParameters, fuzzTimeout } from '../../fuzz/fuzz-config.js';
import { inspectForeignImage } from './foreign-image.js';

let dir: string;
const seeds = new Map<string, Buffer>();
const SECRET = 'FUZZ-HOST-SECRET';

const EXTENT_LINES = [
  'RW 2048 FLAT "flat.img" 0',
  'RW 2048 FLAT "SECRET" 0',
  'RW\t2048\tFLAT\t"SECRET"\t0',
  'rw 2048 flat "SECRET" 0',
  'RW 2048 FLAT "SECRET"',
  'RDONLY 2048 FLAT "../SECRET" 0',
  'RW 2048 SPARSE "SECRET"',
  'RW 2048 VMFS "SECRET"',
  'RW 2048 ZERO',
  'NOACCESS 2048 FLAT "SECRET" 0',
  'RW 2048 FLAT "flat.img" 0 extra',
  'RW 2048 FLAT "SECRET" 0\r',
  'parentFileNameHint="SECRET"',
  'createType="monolithicFlat"',
  '  RW 2048 FLAT "SECRET" 0',
  'RW 2048 FLAT SECRET 0',
];

function qemuSeesOnly(file: string, format: string, allowed: Set<string>): string[] {
  const out = execFileSync('qemu-img', ['info', '--backing-chain', '--output=json', '-U', '-f', format, file], { encoding: 'utf8' });
  const images = JSON.parse(out) as Array<Record<string, unknown>>;
  const seen: string[] = [];
  for (const img of images) {
    if (typeof img['backing-filename'] === 'string') seen.push(`backing ${img['backing-filename']}`);
    const data = (img['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
    if (typeof data['data-file'] === 'string') seen.push(`data-file ${data['data-file']}`);
    for (const e of Array.isArray(data.extents) ? (data.extents as Array<{ filename: string }>) : []) {
      if (!allowed.has(path.resolve(path.dirname(file), e.filename))) seen.push(`extent ${e.filename}`);
    }
  }
  return seen;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-imgfuzz-'));
  fs.writeFileSync(path.join(dir, 'SECRET'), Buffer.concat([Buffer.from(SECRET), Buffer.alloc(1024 * 1024 - SECRET.length)]));
  fs.writeFileSync(path.join(dir, 'flat.img'), Buffer.alloc(1024 * 1024));
  const make = (name: string, ...args: string[]): void => {
    execFileSync('qemu-img', ['create', '-q', ...args, path.join(dir, name), '1M'], { stdio: 'pipe' });
    seeds.set(name, fs.readFileSync(path.join(dir, name)));
  };
  make('plain.qcow2', '-f', 'qcow2');
  make('backed.qcow2', '-f', 'qcow2', '-u', '-b', 'SECRET', '-F', 'raw');
  make('sparse.vmdk', '-f', 'vmdk');
  make('stream.vmdk', '-f', 'vmdk', '-o', 'subformat=streamOptimized');
  make('x.vdi', '-f', 'vdi');
  make('x.vhd', '-f', 'vpc');
  make('x.vhdx', '-f', 'vhdx');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A mutation: some bytes of the first 4 KiB overwritten, or a 64-bit field set to a chosen value. */
const mutation = fc.oneof(
  fc.record({ at: fc.nat(4095), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ at: fc.nat(511), bytes: fc.constantFrom(...[0n, 1n, 512n, 4096n, 2n ** 40n, 2n ** 63n].map(u64)) }),
);

function u64(v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}

async function judge(file: string): Promise<void> {
  let accepted: Awaited<ReturnType<typeof inspectForeignImage>>;
  try {
    accepted = await inspectForeignImage(file, { what: 'fuzzed image' });
  } catch (err) {
    const e = toErrorShape(err);
    // NOT_FOUND: a mutated name of a backing file that does not exist.
    expect(['INVALID_INPUT', 'NOT_FOUND'], e.message).toContain(e.code);
    return;
  }
  expect(accepted.backing).toEqual([]);
  expect(accepted.virtualSize).toBeGreaterThan(0);
  const allowed = new Set([file, ...accepted.extents]);
  expect(qemuSeesOnly(file, accepted.format, allowed)).toEqual([]);
}

describe('the foreign-image inspector against qemu-img', () => {
  it.prop(
    [
      fc.constantFrom(...['plain.qcow2', 'backed.qcow2', 'sparse.vmdk', 'stream.vmdk', 'x.vdi', 'x.vhd', 'x.vhdx']),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
    ],
    fuzzParameters(120),
  )(
    'a mutated binary image is refused, or QEMU finds nothing behind it',
    async (seed, mutations) => {
      const bytes = Buffer.from(seeds.get(seed) ?? Buffer.alloc(0));
      for (const m of mutations) Buffer.from(m.bytes).copy(bytes, m.at);
      const file = path.join(dir, `case-${seed}`);
      fs.writeFileSync(file, bytes);
      await judge(file);
    },
    fuzzTimeout(120, 150),
  );

  it.prop(
    [fc.array(fc.constantFrom(...EXTENT_LINES), { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\r\n', '\r')],
    fuzzParameters(80),
  )(
    'a vmdk descriptor with tricky extent lines is refused, or reads only files beside it',
    async (lines, eol) => {
      const text = ['# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', ...lines, ''].join(eol);
      const file = path.join(dir, 'case.vmdk');
      fs.writeFileSync(file, text);
      await judge(file);
    },
    fuzzTimeout(80, 150),
  );
});
