import { describe, expect, it } from 'vitest';
import { VmdeskError } from './errors.js';
import { incomingInputSchema, migrateOptionsSchema } from './migration.js';
import { parseInput } from './validation.js';

const refusal = (run: () => unknown): VmdeskError => {
  try {
    run();
  } catch (err) {
    if (err instanceof VmdeskError) return err;
    throw err;
  }
  throw new Error('accepted');
};

describe('the passphrase of a migration', () => {
  it('is taken with a live migration, not with an offline one (encrypted images travel as they are)', () => {
    expect(parseInput(migrateOptionsSchema, { to: 'lab', passphrase: 'long enough' }, 'options').passphrase).toBe('long enough');
    const offline = refusal(() => parseInput(migrateOptionsSchema, { to: 'lab', offline: true, passphrase: 'long enough' }, 'options'));
    expect(offline.code).toBe('INVALID_INPUT');
    expect(offline.message).toMatch(/An offline migration needs no passphrase/);
  });

  it('is checked on both ends as a start checks it, and a refused one is not said back', () => {
    const secret = `s3cret-${'x'.repeat(1100)}`;
    for (const [bad, why] of [
      ['', /The passphrase is empty/],
      [secret, /longer than 1024 characters/],
      ['with\u0000nul', /NUL character/],
    ] as const) {
      const source = refusal(() => parseInput(migrateOptionsSchema, { to: 'lab', passphrase: bad }, 'options'));
      expect(source.message).toMatch(why);
      const destination = refusal(() => parseInput(incomingInputSchema, { config: {}, disks: [], passphrase: bad }, 'incoming migration'));
      expect(destination.details).toMatchObject({
        issues: expect.arrayContaining([{ path: ['passphrase'], message: expect.stringMatching(why) }]),
      });
      expect(JSON.stringify([source, destination, source.message, destination.message, source.details, destination.details])).not.toContain(
        's3cret',
      );
    }
  });
});
