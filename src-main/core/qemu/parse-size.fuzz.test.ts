// Property-based tests of parseSize, the one parser of the sizes people type (--disk 20G, disk
// resize 1.5GiB): every string gives whole bytes or INVALID_INPUT, and a number with a unit reads
// back as that number of units.
import { it } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { VmdeskError } from '../../api/errors.js';
import { fuzzParameters } from '../../fuzz/fuzz-config.js';
import { HOSTILE_STRINGS } from '../../fuzz/hostile.js';
import { parseSize } from './qemu-img.js';

const UNIT_POWER = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5 } as const;
const unit = fc.constantFrom(...(Object.keys(UNIT_POWER) as Array<keyof typeof UNIT_POWER>));
const suffix = fc.constantFrom('', 'B', 'iB', 'b', 'ib');

/** Text that looks like a size more often than random text does. */
const sizeLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789.kmgtpKMGTPiIbB -+eE_x\t\n'), maxLength: 14 }),
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.tuple(fc.double(), unit).map(([n, u]) => `${n}${u}`),
);

describe('parseSize', () => {
  it.prop([sizeLike], fuzzParameters(2000))('any text: whole positive bytes, or INVALID_INPUT', (text) => {
    let bytes: number;
    try {
      bytes = parseSize(text);
    } catch (err) {
      expect(err).toBeInstanceOf(VmdeskError);
      expect((err as VmdeskError).code).toBe('INVALID_INPUT');
      return;
    }
    expect(Number.isSafeInteger(bytes) && bytes > 0, `${JSON.stringify(text)} → ${bytes}`).toBe(true);
  });

  it.prop([fc.integer({ min: 1, max: 2 ** 40 }), unit, suffix, fc.constantFrom('', ' ')], fuzzParameters(1000))(
    'N followed by a binary unit is N times that unit, as long as it fits',
    (n, u, s, space) => {
      const text = `${n}${space}${u}${u === '' ? '' : s}`;
      const expected = n * 1024 ** UNIT_POWER[u];
      if (Number.isSafeInteger(expected)) expect(parseSize(text)).toBe(expected);
      else expect(() => parseSize(text)).toThrow(/too large/);
    },
  );

  it.prop([fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 999 }), unit], fuzzParameters(500))(
    'a fraction of a unit is rounded down to whole bytes',
    (whole, fraction, u) => {
      const text = `${whole}.${fraction}${u}`;
      const expected = Math.floor(Number(`${whole}.${fraction}`) * 1024 ** UNIT_POWER[u]);
      if (expected > 0 && Number.isSafeInteger(expected)) expect(parseSize(text)).toBe(expected);
      else expect(() => parseSize(text)).toThrow(VmdeskError);
    },
  );
});
