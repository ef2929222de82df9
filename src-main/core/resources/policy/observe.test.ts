import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMeminfo, startedMemoryMiB } from './observe.js';
import { policyMachine } from './policy-loop.js';
import { readPolicySettings, writePolicySettings } from './policy-files.js';
import type { MachineView } from './observe.js';

describe('parseMeminfo', () => {
  it('reads MemTotal and MemAvailable in MiB', () => {
    const text = 'MemTotal:       24683584 kB\nMemFree:        23802640 kB\nMemAvailable:   24061776 kB\n';
    expect(parseMeminfo(text)).toEqual({ totalMiB: 24105, availableMiB: 23497 });
  });

  it('refuses a meminfo without MemAvailable', () => {
    expect(() => parseMeminfo('MemTotal: 1000 kB\n')).toThrow(/MemAvailable/);
  });
});

describe('startedMemoryMiB', () => {
  it('reads QEMU -m size=NM', () => {
    expect(startedMemoryMiB(['-smp', 'cpus=1', '-m', 'size=256M', '-rtc', 'base=utc'])).toBe(256);
    expect(startedMemoryMiB(['-m', 'size=131080K'])).toBe(128);
    expect(startedMemoryMiB(['-m', 'size=2G'])).toBeNull();
    expect(startedMemoryMiB([])).toBeNull();
  });
});

describe('policyMachine', () => {
  const view = (balloon: MachineView['balloon']): MachineView => ({
    uuid: 'u1',
    name: 'a',
    runtimeDir: '/nonexistent',
    memoryMiB: 256,
    minimumMiB: 160,
    shares: 100,
    actualMiB: 200,
    guest: null,
    balloon,
    managed: true,
    why: '',
  });

  it('takes the start or user target as the ceiling', () => {
    const m = policyMachine(view({ targetMiB: 200, setBy: 'user', at: 'x' }), { u1: 240 });
    expect(m).toMatchObject({ ceilingMiB: 200, targetMiB: 200, ownTarget: false });
  });

  it("re-adopts its own target with the ceiling it remembered, or the machine's memory", () => {
    expect(policyMachine(view({ targetMiB: 170, setBy: 'policy', at: 'x' }), { u1: 240 })).toMatchObject({
      ceilingMiB: 240,
      targetMiB: 170,
      ownTarget: true,
    });
    expect(policyMachine(view({ targetMiB: 170, setBy: 'policy', at: 'x' }), {})).toMatchObject({ ceilingMiB: 256, ownTarget: true });
  });

  it('without balloon.json: its size now is its target, its memory the ceiling', () => {
    expect(policyMachine(view(null), {})).toMatchObject({ ceilingMiB: 256, targetMiB: 200, ownTarget: false });
  });

  it('leaves a machine without a balloon out', () => {
    expect(policyMachine({ ...view(null), actualMiB: null }, {})).toBeNull();
  });
});

describe('policy settings file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const home = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-policy-'));
    dirs.push(d);
    return d;
  };

  it('defaults to off at 80 %, and keeps what was written', async () => {
    const h = home();
    expect(await readPolicySettings(h)).toEqual({ enabled: false, targetPercent: 80 });
    await writePolicySettings(h, { enabled: true, targetPercent: 70 });
    expect(await readPolicySettings(h)).toEqual({ enabled: true, targetPercent: 70 });
  });

  it('says so when the file is not valid, instead of guessing', async () => {
    const h = home();
    fs.writeFileSync(path.join(h, 'memory-policy.json'), '{"enabled": true, "targetPercent": 150}');
    await expect(readPolicySettings(h)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/not valid memory policy settings/),
    });
  });
});
