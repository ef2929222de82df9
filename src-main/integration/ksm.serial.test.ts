// Page sharing (KSM) with real guests through the real CLI: three identical demo guests that allow
// page sharing get pages merged, a fourth with `--page-sharing off` gets none; `vmdesk ksm off` puts
// the host's own KSM settings back; a user who may not change KSM gets the command to run and
// nothing changes. KSM is host-wide (other tests' guests may be merged too): only our machines'
// figures are asserted. The host's settings are saved before and written back after, whatever happens.
// Runs alone (*.serial.test.ts): it changes /sys/kernel/mm/ksm.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsmStatus } from '../api/resources.js';
import { ERROR_CODES } from '../api/errors.js';
import { KSM_SYSFS } from '../core/resources/ksm.js';
import { CLI, eventually, makeSandbox, needsRoot, ok, skipBecause, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const SHARING = ['k1', 'k2', 'k3'];
const NOT_SHARING = 'koff';
const SETTINGS = ['run', 'pages_to_scan', 'sleep_millisecs', 'advisor_mode'];
const HAS_KSM = fs.existsSync(path.join(KSM_SYSFS, 'run'));

let sb: Sandbox;
let hostBefore: Record<string, string>;

function readHost(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of SETTINGS) {
    const file = path.join(KSM_SYSFS, name);
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8').trim();
    values[name] = name === 'advisor_mode' ? (/\[([\w-]+)\]/.exec(text)?.[1] ?? text) : text;
  }
  return values;
}

/** Put the host's settings back as they were before this file ran (the advisor before the rate, as the kernel wants). */
function restoreHost(): void {
  const now = readHost();
  for (const name of ['run', 'advisor_mode', 'pages_to_scan', 'sleep_millisecs']) {
    const value = hostBefore[name];
    if (value !== undefined && now[name] !== value) fs.writeFileSync(path.join(KSM_SYSFS, name), value);
  }
}

async function status(): Promise<KsmStatus> {
  return JSON.parse(await ok(sb, ['ksm', '--json'])) as KsmStatus;
}

const machine = (s: KsmStatus, name: string): KsmStatus['machines'][number] | undefined => s.machines.find((m) => m.name === name);

beforeAll(() => {
  sb = makeSandbox();
  if (HAS_KSM) hostBefore = readHost();
});
afterAll(async () => {
  try {
    if (HAS_KSM) restoreHost();
  } finally {
    await sb.cleanup();
  }
});

describe('page sharing (KSM)', () => {
  it('refuses a user who may not change KSM: the command to run, exit code, nothing changed', async (ctx) => {
    needsRoot(ctx, 'runs the CLI as user nobody and compares with what root may do');
    if (!HAS_KSM) skipBecause(ctx, `this kernel has no KSM (${KSM_SYSFS})`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-ksm-nobody-'));
    fs.chownSync(dir, 65534, 65534);
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: dir,
        VMDESK_HOME: path.join(dir, 'home'),
        VMDESK_RUNTIME_DIR: path.join(dir, 'rt'),
      };
      const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI];
      const r = await runAs(asNobody, ['ksm', 'on', '--pages-to-scan', '5000'], env);
      expect(r.code).toBe(ERROR_CODES.HOST_UNSUPPORTED);
      expect(r.stderr).toContain(`echo 5000 | sudo tee ${KSM_SYSFS}/pages_to_scan && echo 1 | sudo tee ${KSM_SYSFS}/run`);
      expect(readHost()).toEqual(hostBefore);
      expect(fs.existsSync(path.join(dir, 'rt', 'ksm-saved.json'))).toBe(false);
      // The figures are still readable by anyone, with the command in them.
      const shown = await runAs(asNobody, ['ksm', '--json'], env);
      expect(shown.code).toBe(0);
      const s = JSON.parse(shown.stdout) as KsmStatus;
      expect(s).toMatchObject({ available: true, writable: false });
      expect(s.command).toContain(`sudo tee ${KSM_SYSFS}/run`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Four guests booted under TCG on a shared 2-core machine, then up to a minute of scanning.
  it('merges pages of three identical guests that allow it, none of one that does not', { timeout: 300_000 }, async (ctx) => {
    needsRoot(ctx, 'writes /sys/kernel/mm/ksm');
    if (!HAS_KSM) skipBecause(ctx, `this kernel has no KSM (${KSM_SYSFS})`);
    for (const name of [...SHARING, NOT_SHARING]) await ok(sb, ['create', name, '--demo', '--memory', '128']);
    await ok(sb, ['modify', NOT_SHARING, '--page-sharing', 'off']);
    for (const name of [...SHARING, NOT_SHARING]) await ok(sb, ['start', name]);
    for (const name of [...SHARING, NOT_SHARING]) await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);

    const since = Date.now();
    const on = JSON.parse(await ok(sb, ['ksm', 'on', '--pages-to-scan', '5000', '--sleep-ms', '10', '--json'])) as KsmStatus;
    expect(on).toMatchObject({ available: true, running: true, controlledByVmdesk: true, pagesToScan: 5000, sleepMs: 10 });
    expect(readHost()).toMatchObject({ run: '1', pages_to_scan: '5000', sleep_millisecs: '10' });

    const merged = (s: KsmStatus): boolean =>
      (s.pagesSharing ?? 0) > 0 && SHARING.every((name) => (machine(s, name)?.mergingPages ?? 0) > 0);
    const s = await eventually(status, merged, 60_000);
    const figures = [...SHARING, NOT_SHARING].map((name) => `${name}: ${machine(s, name)?.mergingPages ?? 'absent'}`).join(', ');
    console.log(
      `KSM after ${((Date.now() - since) / 1000).toFixed(1)} s: pages_shared ${s.pagesShared}, pages_sharing ${s.pagesSharing}, zero ${s.zeroPages}, ` +
        `saved ${((s.savedBytes ?? 0) / 1048576).toFixed(1)} MiB, general_profit ${((s.generalProfitBytes ?? 0) / 1048576).toFixed(1)} MiB; ` +
        `merging pages ${figures}`,
    );
    expect(s.pagesSharing).toBeGreaterThan(0);
    expect(s.savedBytes).toBeGreaterThan(0);
    for (const name of SHARING) {
      expect(machine(s, name)).toMatchObject({ pageSharing: true });
      expect(machine(s, name)?.mergingPages, `${name}'s merging pages (${figures})`).toBeGreaterThan(0);
    }
    expect(machine(s, NOT_SHARING)).toMatchObject({ pageSharing: false, mergingPages: 0 });

    const text = await ok(sb, ['ksm']);
    expect(text).toMatch(/KSM +running, turned on by VMDesk/);
    expect(text).toMatch(/k1 +allowed +[1-9]\d* /);
    expect(text).toMatch(/koff +off +0 /);
  });

  it("vmdesk ksm off puts the host's own settings back and lets go", async (ctx) => {
    needsRoot(ctx, 'writes /sys/kernel/mm/ksm');
    if (!HAS_KSM) skipBecause(ctx, `this kernel has no KSM (${KSM_SYSFS})`);
    const off = JSON.parse(await ok(sb, ['ksm', 'off', '--json'])) as KsmStatus;
    expect(off.controlledByVmdesk).toBe(false);
    expect(readHost()).toEqual(hostBefore);
    expect(fs.existsSync(path.join(sb.runtime, 'ksm-saved.json'))).toBe(false);
    for (const name of [...SHARING, NOT_SHARING]) await ok(sb, ['stop', name, '--force']);
  });

  it("leaves the host's KSM settings as they were before this file ran", (ctx) => {
    needsRoot(ctx, 'the settings only change as root');
    if (!HAS_KSM) skipBecause(ctx, `this kernel has no KSM (${KSM_SYSFS})`);
    expect(readHost()).toEqual(hostBefore);
  });
});

function runAs(setpriv: string[], args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', [...setpriv, ...args], { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
