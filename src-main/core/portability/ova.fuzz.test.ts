// Fuzzing the OVA reader: tar archives written by VMDesk's own TarWriter, then cut, overwritten and
// patched in their headers (sizes, types, names, checksums) on a real file. Indexing one gives flat,
// unique, safe entries inside the file, or a typed error; never an entry a reader could follow out.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { toErrorShape, VmdeskError } from '../../api/errors.js';
import { fuzzParameters, fuzzTimeout } from '../../fuzz/fuzz-config.js';
import { HOSTILE_STRINGS } from '../../fuzz/hostile.js';
import { BLOCK, TarWriter, parseManifest, readEntry, readTarIndex, ustarHeader } from './ova.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-ovafuzz-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const entryName = fc.oneof(
  fc.constantFrom('web.ovf', 'web.mf', 'web-disk001.vmdk', 'web-vmlinuz'),
  fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,39}$/),
);

/** A valid archive of a few small entries, as VMDesk writes it. */
const archive = fc.uniqueArray(fc.tuple(entryName, fc.uint8Array({ maxLength: 1500 })), {
  minLength: 1,
  maxLength: 4,
  selector: ([n]) => n,
});

async function writeArchive(file: string, entries: Array<[string, Uint8Array]>): Promise<Buffer> {
  const handle = await fsp.open(file, 'w');
  try {
    const tar = new TarWriter(handle);
    for (const [name, data] of entries) await tar.addBuffer(name, Buffer.from(data));
    await tar.finish();
  } finally {
    await handle.close();
  }
  return fs.readFileSync(file);
}

/** A header with a hostile name, type or size, and a correct checksum so the reader looks further. */
function hostileHeader(name: string, type: string, size: number): Buffer {
  const h = ustarHeader('x', 0, 0);
  h.fill(0, 0, 100);
  Buffer.from(name, 'utf8').copy(h, 0, 0, 100);
  h.write(`${Math.max(0, size).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  if (size < 0) h[124] = 0xff; // base-256 with the sign bit: a negative size
  h.write(type, 156, 'latin1');
  h.write('        ', 148, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('bytes' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('header' as const),
    block: fc.nat({ max: 8 }),
    name: fc.oneof(
      entryName,
      fc.constantFrom(...HOSTILE_STRINGS),
      fc.constantFrom('../../etc/passwd', '/etc/passwd', 'a/b', './', '.', 'web.ovf'),
    ),
    type: fc.constantFrom('0', '\0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'V'),
    size: fc.oneof(fc.nat({ max: 4096 }), fc.constantFrom(-1, 2 ** 33, Number.MAX_SAFE_INTEGER)),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(original: Buffer, edits: Mutation[]): Buffer {
  let buf = Buffer.from(original);
  for (const e of edits) {
    if (e.kind === 'cut') buf = buf.subarray(0, Math.floor(e.at * buf.length));
    else if (e.kind === 'bytes') Buffer.from(e.bytes).copy(buf, Math.floor(e.at * buf.length));
    else if (e.block * BLOCK < buf.length) hostileHeader(e.name, e.type, e.size).copy(buf, e.block * BLOCK);
  }
  return buf;
}

describe('readTarIndex', () => {
  it.prop([archive], fuzzParameters(200))(
    'indexes an archive VMDesk wrote: every entry, its bytes where they are',
    async (entries) => {
      const file = path.join(dir, 'valid.ova');
      await writeArchive(file, entries);
      const index = await readTarIndex(file);
      expect(index.map((e) => e.name)).toEqual(entries.map(([n]) => n));
      for (const [i, e] of index.entries()) expect(new Uint8Array(await readEntry(file, e))).toEqual(entries[i]?.[1]);
    },
    fuzzTimeout(200, 20),
  );

  it.prop([archive, fc.array(mutation, { minLength: 1, maxLength: 3 })], fuzzParameters(600))(
    'a cut, overwritten or patched archive gives safe entries inside the file, or a typed error',
    async (entries, edits) => {
      const file = path.join(dir, 'mutated.ova');
      const bytes = mutate(await writeArchive(file, entries), edits);
      fs.writeFileSync(file, bytes);
      let index;
      try {
        index = await readTarIndex(file);
      } catch (err) {
        if (!(err instanceof VmdeskError)) throw new Error(`readTarIndex threw ${String(err)}`, { cause: err });
        expect(toErrorShape(err).code).toBe('INVALID_INPUT');
        return;
      }
      const names = index.map((e) => e.name);
      expect(new Set(names).size).toBe(names.length);
      for (const e of index) {
        expect(e.name).not.toMatch(/[/\\\u0000-\u001f]|^\.\.?$/);
        expect(e.offset % BLOCK).toBe(0);
        expect(e.offset + e.size).toBeLessThanOrEqual(bytes.length);
      }
    },
    fuzzTimeout(600, 20),
  );
});

describe('parseManifest', () => {
  it.prop([fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...HOSTILE_STRINGS))], fuzzParameters(1000))(
    'any text: digest lines, or INVALID_INPUT',
    (text) => {
      try {
        for (const line of parseManifest(text, 'x.mf')) {
          expect(['sha1', 'sha256', 'sha512']).toContain(line.algorithm);
          expect(line.digest).toMatch(/^[0-9a-f]+$/);
        }
      } catch (err) {
        expect(err).toBeInstanceOf(VmdeskError);
        expect((err as VmdeskError).code).toBe('INVALID_INPUT');
      }
    },
  );
});
