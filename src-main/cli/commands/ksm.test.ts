import { describe, expect, it } from 'vitest';
import type { KsmStatus } from '../../api/resources.js';
import { formatKsm, ksmInputFrom } from './ksm.js';

const status: KsmStatus = {
  available: true,
  running: true,
  controlledByVmdesk: true,
  writable: true,
  pagesToScan: 1000,
  sleepMs: 20,
  pagesShared: 300,
  pagesSharing: 25_600,
  zeroPages: 0,
  savedBytes: 25_600 * 4096,
  generalProfitBytes: 90 * 1024 * 1024,
  pageSize: 4096,
  machines: [
    { uuid: 'a', name: 'k1', pageSharing: true, mergingPages: 12_800, profitBytes: 40 * 1024 * 1024 },
    { uuid: 'b', name: 'off1', pageSharing: false, mergingPages: 0, profitBytes: null },
  ],
};

describe('vmdesk ksm', () => {
  it('turns the words and flags into the operation, refusing what does not fit', () => {
    expect(ksmInputFrom(undefined, {})).toBeNull();
    expect(ksmInputFrom('on', { pagesToScan: 5000, sleepMs: 10 })).toEqual({ enabled: true, pagesToScan: 5000, sleepMs: 10 });
    expect(ksmInputFrom('off', {})).toEqual({ enabled: false });
    expect(() => ksmInputFrom('maybe', {})).toThrow(/on or off/);
    expect(() => ksmInputFrom('off', { sleepMs: 10 })).toThrow(/with on/);
    expect(() => ksmInputFrom(undefined, { pagesToScan: 10 })).toThrow(/vmdesk ksm on/);
  });

  it('shows the rate, the memory saved and each machine', () => {
    const text = formatKsm(status);
    expect(text).toMatch(/KSM +running, turned on by VMDesk/);
    expect(text).toMatch(/Scan rate +1000 pages every 20 ms \(at most 195\.3 MiB\/s\)/);
    expect(text).toMatch(/Memory saved +100\.0 MiB/);
    expect(text).toMatch(/General profit +90\.0 MiB/);
    expect(text).toMatch(/k1 +allowed +12800 +50\.0 MiB +40\.0 MiB/);
    expect(text).toMatch(/off1 +off +0 +0\.0 MiB +-/);
  });

  it('names the command to run when this user may not change KSM', () => {
    const text = formatKsm({ ...status, writable: false, controlledByVmdesk: false, command: 'echo 0 | sudo tee /sys/kernel/mm/ksm/run' });
    expect(text).toContain('run as root: echo 0 | sudo tee /sys/kernel/mm/ksm/run');
    expect(formatKsm({ ...status, available: false })).toMatch(/not available/);
  });
});
