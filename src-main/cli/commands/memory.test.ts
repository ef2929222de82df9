import { describe, expect, it } from 'vitest';
import { VmdeskError } from '../../api/errors.js';
import type { MachineMemory } from '../../api/resources.js';
import { formatMemory, parseTargetMiB } from './memory.js';

const stopped: MachineMemory = {
  uuid: '00000000-0000-4000-8000-000000000000',
  name: 'web',
  memoryMiB: 512,
  minimumMiB: 256,
  shares: 100,
  balloon: { device: true, driver: false, targetMiB: null, actualMiB: null, setBy: null },
  guest: null,
  hostRssMiB: null,
  pageSharing: { enabled: true, mergingPages: null },
};

describe('vmdesk memory', () => {
  it('takes --target as whole MiB only', () => {
    expect(parseTargetMiB('192')).toBe(192);
    expect(parseTargetMiB(' 512 ')).toBe(512);
    for (const bad of ['', '0', '-5', '1.5', '12x', '1e3', '9999999999']) expect(() => parseTargetMiB(bad), bad).toThrow(VmdeskError);
  });

  it('shows a stopped machine by its settings', () => {
    const text = formatMemory(stopped);
    expect(text).toContain('Minimum:       256 MiB');
    expect(text).toContain('Balloon:       on (figures while running)');
    expect(text).not.toContain('Target');
    expect(text).not.toContain('Host RSS');
  });

  it("shows a running machine's target, actual size, guest figures and host RSS", () => {
    const text = formatMemory({
      ...stopped,
      balloon: { device: true, driver: true, targetMiB: 192, actualMiB: 200, setBy: 'user' },
      guest: {
        totalMiB: 135,
        freeMiB: 40,
        availableMiB: 60,
        diskCachesMiB: 10,
        swapInMiB: 0,
        swapOutMiB: 0,
        majorFaults: 1,
        minorFaults: 4086,
        updatedAt: '2026-12-02T23:00:00.000Z',
      },
      hostRssMiB: 317,
      pageSharing: { enabled: true, mergingPages: 12 },
    });
    for (const line of [
      /Target: +192 MiB \(set by user\)/,
      /Actual: +200 MiB/,
      /Guest total: +135 MiB/,
      /Guest available: +60 MiB/,
      /Guest faults: +1 major, 4086 minor/,
      /Host RSS: +317 MiB/,
      /Page sharing: +allowed, 12 pages merged/,
    ])
      expect(text).toMatch(line);
  });

  it('says when a running machine has no balloon device, and how to get one', () => {
    const text = formatMemory({ ...stopped, balloon: { ...stopped.balloon, device: false }, hostRssMiB: 90 });
    expect(text).toContain('none (switch it on with vmdesk modify web --balloon on, then restart)');
  });
});
