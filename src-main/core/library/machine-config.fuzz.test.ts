// Property-based tests of machine.json and library.json (load = migrate → defaults → validate):
// a valid config saved and loaded is equal; whatever bytes a machine.json holds, loading it gives a
// config the schema accepts or a typed error, never INTERNAL, and never pollutes Object.prototype.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { it } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { toErrorShape, VmdeskError } from '../../api/errors.js';
import { CONFIG_VERSION, machineConfigSchema, type MachineConfig } from '../../api/machine-config.js';
import { fuzzParameters, fuzzTimeout } from '../../fuzz/fuzz-config.js';
import { HOSTILE_STRINGS } from '../../fuzz/hostile.js';
import { anyTypeValue, fieldPaths, validValue, withValueAt } from '../../fuzz/zod-arbitrary.js';
import { MACHINE_CONFIG, MACHINE_CONFIG_BACKUP } from '../paths.js';
import { Library, loadMachineConfig, saveMachineConfig } from './library.js';

let home: string;
let dir: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-cfgfuzz-'));
  dir = path.join(home, 'machine');
  fs.mkdirSync(dir);
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** A valid machine.json as a caller writes it (defaults may be missing), and as loading fills it in. */
const validConfig = validValue(machineConfigSchema).map((input) => machineConfigSchema.parse(input));

/** Load, and say what happened: the config, or the error's code (INTERNAL fails the property). */
async function loadOutcome(): Promise<{ config: MachineConfig } | { code: string; message: string }> {
  try {
    return { config: await loadMachineConfig(dir) };
  } catch (err) {
    expect(err).toBeInstanceOf(VmdeskError);
    const shape = toErrorShape(err);
    expect(shape.code, shape.message).not.toBe('INTERNAL');
    return { code: shape.code, message: shape.message };
  }
}

function expectNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.version).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
}

const configPaths = fieldPaths(machineConfigSchema).filter((p) => p.length > 0);

/** What a machine.json may hold: random bytes, any JSON, hostile strings, hostile shapes. */
const anyContents = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.constantFrom(...HOSTILE_STRINGS).map((s) => Buffer.from(s)),
  fc
    .constantFrom(
      '{"__proto__":{"polluted":1},"version":1}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '[1,2,3]',
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`,
      '{"version":2}',
      '{"version":null}',
      '\uFEFF{"version":1}',
    )
    .map((s) => Buffer.from(s)),
);

describe('machine.json', () => {
  it(
    'a valid config saved and loaded back is equal, and the previous version is kept as .bak',
    async () => {
      let previous: MachineConfig | null = null;
      await fc.assert(
        fc.asyncProperty(validConfig, async (config) => {
          await saveMachineConfig(dir, config);
          expect(await loadMachineConfig(dir)).toEqual(config);
          if (previous) expect(JSON.parse(fs.readFileSync(path.join(dir, MACHINE_CONFIG_BACKUP), 'utf8'))).toEqual(previous);
          previous = config;
          expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
        }),
        fuzzParameters(100),
      );
    },
    fuzzTimeout(100, 50),
  );

  it.prop([validConfig, fc.constantFrom(...configPaths), anyTypeValue()], fuzzParameters(300))(
    'a wrong type in any field is refused with INVALID_INPUT naming the field, never INTERNAL',
    async (config, at, wrong) => {
      const mutated = withValueAt(config, at, wrong);
      fs.writeFileSync(path.join(dir, MACHINE_CONFIG), JSON.stringify(mutated));
      const outcome = await loadOutcome();
      // Some "wrong" values are right (a string where a string goes, a removed default): then
      // the loaded config is what the schema makes of the file (a file without a version is v1).
      const written = JSON.parse(fs.readFileSync(path.join(dir, MACHINE_CONFIG), 'utf8')) as Record<string, unknown>;
      const expected = machineConfigSchema.safeParse('version' in written ? written : { ...written, version: CONFIG_VERSION });
      if (expected.success) expect(outcome).toEqual({ config: expected.data });
      else
        expect(outcome).toEqual({
          code: 'INVALID_INPUT',
          message: expect.stringMatching(new RegExp(`^${String(at[0])}[.:]`, 'm')) as string,
        });
      expectNoPollution();
    },
    fuzzTimeout(300, 20),
  );

  it.prop([anyContents], fuzzParameters(300))(
    'any bytes at all: a config the schema accepts, or a typed error',
    async (bytes) => {
      fs.writeFileSync(path.join(dir, MACHINE_CONFIG), bytes);
      const outcome = await loadOutcome();
      if ('config' in outcome) expect(machineConfigSchema.safeParse(outcome.config).success).toBe(true);
      expectNoPollution();
    },
    fuzzTimeout(300, 10),
  );

  it('two disks with one id are refused (QEMU would get two drives of one node name)', async () => {
    const [config] = fc.sample(validConfig, { numRuns: 1, seed: 1 });
    const disk = { id: 'disk0', file: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false };
    fs.writeFileSync(path.join(dir, MACHINE_CONFIG), JSON.stringify({ ...config, disks: [disk, { ...disk, file: 'other.qcow2' }] }));
    expect(await loadOutcome()).toEqual({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('disks: Each disk id may appear only once') as string,
    });
  });

  it('a machine.json that is not a file gives a typed error', async () => {
    fs.rmSync(path.join(dir, MACHINE_CONFIG), { force: true });
    expect(await loadOutcome()).toMatchObject({ code: 'NOT_FOUND' });
    fs.mkdirSync(path.join(dir, MACHINE_CONFIG));
    expect(await loadOutcome()).toMatchObject({ code: 'IO' });
    fs.rmdirSync(path.join(dir, MACHINE_CONFIG));
  });
});

/** What a library.json may hold: entries with hostile folders and uuids, any JSON, any text. */
const libraryEntry = fc.record({
  uuid: fc.oneof(fc.uuid(), fc.string()),
  dir: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string()),
});
const libraryText = fc.oneof(
  fc.record({ version: fc.constant(1), machines: fc.array(libraryEntry, { maxLength: 4 }) }).map((v) => JSON.stringify(v)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string(),
);

describe('library.json', () => {
  it.prop([libraryText], fuzzParameters(200))(
    'whatever it holds, listing the library gives machines or a typed error',
    async (text) => {
      const library = new Library(path.join(home, 'library'));
      await library.ensure();
      fs.writeFileSync(library.file, text);
      try {
        const records = await library.list();
        for (const r of records) if (r.error) expect(r.error.code, r.error.message).not.toBe('INTERNAL');
      } catch (err) {
        expect(err).toBeInstanceOf(VmdeskError);
        expect(toErrorShape(err).code).not.toBe('INTERNAL');
      }
      expectNoPollution();
    },
    fuzzTimeout(200, 20),
  );
});
