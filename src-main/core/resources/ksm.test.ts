// KSM's parsers and its save → write → roll back → restore logic, on a folder laid out like
// /sys/kernel/mm/ksm (the real one is driven by src-main/integration/ksm.serial.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGES_TO_SCAN,
  changeKsm,
  memMergeFromCmdline,
  pageSize,
  parseKsmStat,
  parseSysfsValue,
  planKsm,
  processKsm,
  readKsmStatus,
  sudoCommand,
  type KsmPlaces,
} from './ksm.js';

const HOST = { run: '0', pages_to_scan: '100', sleep_millisecs: '20', advisor_mode: 'none' };

describe('KSM parsers', () => {
  it('reads the chosen advisor mode and plain values', () => {
    expect(parseSysfsValue('advisor_mode', '[none] scan-time\n')).toBe('none');
    expect(parseSysfsValue('advisor_mode', 'none [scan-time]\n')).toBe('scan-time');
    expect(parseSysfsValue('run', '1\n')).toBe('1');
  });

  it('reads ksm_stat lines, negative profits included', () => {
    const stat = parseKsmStat('ksm_rmap_items 120\nksm_zero_pages 3\nksm_merging_pages 77\nksm_process_profit -4096\nksm_merge_any: no\n');
    expect(stat.get('ksm_merging_pages')).toBe(77);
    expect(stat.get('ksm_process_profit')).toBe(-4096);
    expect(stat.has('ksm_merge_any')).toBe(false);
  });

  it("finds mem-merge in QEMU's -machine option, on when not said", () => {
    const argv = (machine: string): string => ['qemu-system-x86_64', '-name', 'a', '-machine', machine, '-m', '128M', ''].join('\0');
    expect(memMergeFromCmdline(argv('type=q35,vmport=off,mem-merge=off'))).toBe(false);
    expect(memMergeFromCmdline(argv('type=q35,mem-merge=on,dump-guest-core=off'))).toBe(true);
    expect(memMergeFromCmdline(argv('q35'))).toBe(true);
    expect(memMergeFromCmdline(['qemu-system-x86_64', '-m', '1G'].join('\0'))).toBeNull();
  });

  it('gives the kernel page size of this host', async () => {
    const size = await pageSize();
    expect([4096, 16384, 65536]).toContain(size);
  });

  it('says each write as a sudo tee line', () => {
    expect(
      sudoCommand('/sys/kernel/mm/ksm', [
        ['pages_to_scan', '1000'],
        ['run', '1'],
      ]),
    ).toBe('echo 1000 | sudo tee /sys/kernel/mm/ksm/pages_to_scan && echo 1 | sudo tee /sys/kernel/mm/ksm/run');
  });
});

describe('planKsm', () => {
  it('on from the kernel defaults: the rate, then run; values in place are not written', () => {
    expect(planKsm(HOST, { enabled: true }, null)).toEqual([
      ['pages_to_scan', String(DEFAULT_PAGES_TO_SCAN)],
      ['run', '1'],
    ]);
  });

  it('turns the advisor off before setting a rate (the kernel refuses pages_to_scan under it)', () => {
    expect(planKsm({ ...HOST, advisor_mode: 'scan-time' }, { enabled: true, pagesToScan: 5000, sleepMs: 10 }, null)).toEqual([
      ['advisor_mode', 'none'],
      ['pages_to_scan', '5000'],
      ['sleep_millisecs', '10'],
      ['run', '1'],
    ]);
  });

  it("on again under VMDesk's control keeps the rate it has unless a new one is given", () => {
    const saved = { version: 1 as const, savedAt: '', settings: { run: '0', pages_to_scan: '100', sleep_millisecs: '20' } };
    const now = { run: '1', pages_to_scan: '5000', sleep_millisecs: '10', advisor_mode: 'none' };
    expect(planKsm(now, { enabled: true }, saved)).toEqual([]);
    expect(planKsm(now, { enabled: true, sleepMs: 50 }, saved)).toEqual([['sleep_millisecs', '50']]);
  });

  it('off restores what was saved, run first, advisor last', () => {
    const saved = {
      version: 1 as const,
      savedAt: '',
      settings: { run: '0', pages_to_scan: '100', sleep_millisecs: '200', advisor_mode: 'scan-time' },
    };
    expect(planKsm({ run: '1', pages_to_scan: '5000', sleep_millisecs: '10', advisor_mode: 'none' }, { enabled: false }, saved)).toEqual([
      ['run', '0'],
      ['pages_to_scan', '100'],
      ['sleep_millisecs', '200'],
      ['advisor_mode', 'scan-time'],
    ]);
  });

  it('off without VMDesk having turned it on: scanning stops, nothing else', () => {
    expect(planKsm({ ...HOST, run: '1', pages_to_scan: '300' }, { enabled: false }, null)).toEqual([['run', '0']]);
    expect(planKsm(HOST, { enabled: false }, null)).toEqual([]);
  });
});

describe('changeKsm on a KSM-shaped folder', () => {
  let dir: string;
  let places: KsmPlaces;
  const read = (name: string): string => fs.readFileSync(path.join(places.sysfs, name), 'utf8').trim();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-ksm-'));
    places = { sysfs: path.join(dir, 'ksm'), savedFile: path.join(dir, 'runtime', 'ksm-saved.json') };
    fs.mkdirSync(places.sysfs);
    const files = { ...HOST, advisor_mode: '[none] scan-time', pages_shared: '10', pages_sharing: '90', ksm_zero_pages: '5' };
    for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(places.sysfs, name), `${value}\n`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("on saves the host's settings first, off puts them back and forgets them", async () => {
    await changeKsm(places, { enabled: true, pagesToScan: 5000, sleepMs: 10 });
    expect([read('run'), read('pages_to_scan'), read('sleep_millisecs')]).toEqual(['1', '5000', '10']);
    const saved = JSON.parse(fs.readFileSync(places.savedFile, 'utf8')) as { settings: Record<string, string> };
    expect(saved.settings).toEqual(HOST);

    // A second on changes the rate but keeps the host's settings from before the first.
    await changeKsm(places, { enabled: true, pagesToScan: 2000 });
    expect(read('pages_to_scan')).toBe('2000');
    expect((JSON.parse(fs.readFileSync(places.savedFile, 'utf8')) as { settings: Record<string, string> }).settings).toEqual(HOST);

    await changeKsm(places, { enabled: false });
    expect([read('run'), read('pages_to_scan'), read('sleep_millisecs')]).toEqual(['0', '100', '20']);
    expect(fs.existsSync(places.savedFile)).toBe(false);
  });

  it('a write that fails puts back what was written and keeps no saved settings', async () => {
    // sleep_millisecs as a kernel file that reads a number and refuses every write (EINVAL, even for
    // root): its write fails after pages_to_scan was written.
    fs.rmSync(path.join(places.sysfs, 'sleep_millisecs'));
    fs.symlinkSync('/proc/self/oom_score', path.join(places.sysfs, 'sleep_millisecs'));
    const err = await changeKsm(places, { enabled: true, pagesToScan: 5000, sleepMs: 10 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO', message: expect.stringMatching(/sleep_millisecs.*back as it was/) as unknown });
    expect([read('run'), read('pages_to_scan')]).toEqual(['0', '100']);
    expect(fs.existsSync(places.savedFile)).toBe(false);
  });

  it('refuses bad input before touching anything', async () => {
    await expect(changeKsm(places, { enabled: true, pagesToScan: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(changeKsm(places, { enabled: false, sleepMs: 10 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(changeKsm(places, { enabled: true, extra: 1 } as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect([read('run'), read('pages_to_scan')]).toEqual(['0', '100']);
    expect(fs.existsSync(places.savedFile)).toBe(false);
  });

  it('a damaged saved file is reported, not trusted', async () => {
    fs.mkdirSync(path.dirname(places.savedFile), { recursive: true });
    fs.writeFileSync(places.savedFile, '{"version":1,"settings":{"run":"; rm -rf /"}}');
    await expect(changeKsm(places, { enabled: false })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(read('run')).toBe('0');
  });

  it('status: memory saved is (pages_sharing + zero pages) × page size; missing figures are null', async () => {
    const s = await readKsmStatus(places);
    expect(s).toMatchObject({ available: true, running: false, controlledByVmdesk: false, pagesSharing: 90, zeroPages: 5 });
    expect(s.savedBytes).toBe(95 * s.pageSize);
    expect(s.generalProfitBytes).toBeNull();
    const none = await readKsmStatus({ ...places, sysfs: path.join(dir, 'absent') });
    expect(none).toMatchObject({ available: false, running: false, savedBytes: null });
  });
});

describe('processKsm', () => {
  it('reads ksm_merging_pages, else ksm_stat, else null', async () => {
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-proc-'));
    try {
      fs.mkdirSync(path.join(proc, '10'));
      fs.writeFileSync(path.join(proc, '10', 'ksm_merging_pages'), '42\n');
      fs.writeFileSync(path.join(proc, '10', 'ksm_stat'), 'ksm_rmap_items 50\nksm_process_profit 8192\n');
      fs.mkdirSync(path.join(proc, '11'));
      fs.writeFileSync(path.join(proc, '11', 'ksm_stat'), 'ksm_rmap_items 50\nksm_merging_pages 7\n');
      fs.mkdirSync(path.join(proc, '12'));
      expect(await processKsm(10, proc)).toEqual({ mergingPages: 42, profitBytes: 8192 });
      expect(await processKsm(11, proc)).toEqual({ mergingPages: 7, profitBytes: null });
      expect(await processKsm(12, proc)).toEqual({ mergingPages: null, profitBytes: null });
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });
});
