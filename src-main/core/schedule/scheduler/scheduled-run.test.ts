import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VmdeskError } from '../../../api/errors.js';
import { readRuns } from '../runs-log.js';
import { readScheduleState } from '../schedule-files.js';
import { runSlot, type RunServices } from './scheduled-run.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-run-'));
  made.push(dir);
  return dir;
}

describe('runSlot', () => {
  it('a stopped machine with encrypted disks: the slot is skipped, with the reason in the run log, and not tried again', async () => {
    const home = tempDir();
    const dir = tempDir();
    const logged: string[] = [];
    const services: RunServices = {
      home,
      // What Snapshots.take says of a stopped encrypted machine given no passphrase.
      take: () =>
        Promise.reject(
          new VmdeskError('INVALID_INPUT', 'vault has encrypted disks: its passphrase is needed to take a snapshot of it', {
            needsPassphrase: true,
          }),
        ),
      prune: () => Promise.reject(new Error('nothing to prune')),
      log: (line) => logged.push(line),
      status: () => ({ state: 'stopped' }),
      resume: () => Promise.resolve(),
    };
    const slot = new Date('2026-12-03T10:00:00.000Z');
    const machine = {
      uuid: '0b6f3a52-8d0e-4c1b-9a55-3f1d2f7c9e01',
      name: 'vault',
      dir,
      schedule: { version: 1 as const, settings: { every: 'hourly' as const, retention: {} }, setAt: '2026-12-01T00:00:00.000Z' },
    };
    const outcome = await runSlot(services, machine, slot);
    const skipped = /^Skipped: vault is stopped and its disks are encrypted, so a snapshot needs its passphrase/;
    expect(outcome).toMatchObject({ outcome: 'done', snapshot: null, message: expect.stringMatching(skipped) });
    expect(readRuns(home).at(-1)).toMatchObject({ state: 'done', message: expect.stringMatching(skipped) });
    expect(readScheduleState(dir)).toMatchObject({ lastSlot: slot.toISOString(), pending: null });
    expect(logged).toEqual([expect.stringMatching(/^vault: Skipped: /)]);
  });
});
