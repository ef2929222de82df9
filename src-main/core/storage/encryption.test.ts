import { describe, expect, it } from 'vitest';
import { CALIBRATION_TRIES, retryCalibration } from './encryption.js';

/** An attempt that fails with `message` its first `failures` times, then returns 'made'. */
function failing(failures: number, message: string): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    attempt: () => {
      calls++;
      return calls <= failures ? Promise.reject(new Error(message)) : Promise.resolve('made');
    },
    calls: () => calls,
  };
}

const CALIBRATION = 'QEMU could not create the encrypted overlay /x/disk0.qcow2: Unable to get accurate CPU usage';

describe('retryCalibration (QEMU measuring 0 ms while calibrating a LUKS header)', () => {
  it('tries again after each such failure, up to its last try', async () => {
    const run = failing(CALIBRATION_TRIES - 1, CALIBRATION);
    await expect(retryCalibration(run.attempt)).resolves.toBe('made');
    expect(run.calls()).toBe(CALIBRATION_TRIES);
  });

  it('gives the failure back after its last try', async () => {
    const run = failing(CALIBRATION_TRIES, CALIBRATION);
    await expect(retryCalibration(run.attempt)).rejects.toThrow(/accurate CPU usage/);
    expect(run.calls()).toBe(CALIBRATION_TRIES);
  });

  it('gives any other failure back at once', async () => {
    const run = failing(1, 'Invalid password, cannot unlock any keyslot');
    await expect(retryCalibration(run.attempt)).rejects.toThrow(/Invalid password/);
    expect(run.calls()).toBe(1);
  });
});
