import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LaunchFile } from '../agent/protocol.js';
import { SCROLLBACK_BYTES } from '../console/scrollback.js';
import { consoleFileOf, keepConsole, removeStateFiles, syncStateFiles } from './console.js';

let root: string;
let runtimeDir: string;
let serialLog: string;
let state: string;

function writeLaunch(serialLogStart: number, serial = true): void {
  const launch: LaunchFile = {
    uuid: '6f1c9a34-8d52-4c1e-9a3b-2f7e5d4c3b21',
    name: 'm',
    qemuBinary: 'qemu-system-x86_64',
    args: [],
    machineDir: root,
    qemuLog: path.join(root, 'qemu.log'),
    serialLog,
    serialLogStart,
    serial,
    accel: 'tcg',
    linksDown: [],
  };
  fs.writeFileSync(path.join(runtimeDir, 'launch.json'), JSON.stringify(launch));
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-console-'));
  runtimeDir = path.join(root, 'run');
  fs.mkdirSync(runtimeDir);
  fs.mkdirSync(path.join(root, 'snapshots'));
  serialLog = path.join(root, 'serial.log');
  state = path.join(root, 'snapshots', '0b7e1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.vmstate');
  fs.writeFileSync(state, 'QEVM');
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the console kept with a RAM state', () => {
  it('sits beside the state: <id>.vmstate → <id>.console', () => {
    expect(consoleFileOf('snapshots/0b7e1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.vmstate')).toBe(
      'snapshots/0b7e1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.console',
    );
  });

  it('is what the agent replays: the console it resumed with, then serial.log from its boot on (not an earlier boot)', async () => {
    const earlier = 'earlier boot\r\n';
    fs.writeFileSync(serialLog, `${earlier}this boot\r\n\x1b[31mred\x1b[0m # `);
    fs.writeFileSync(path.join(runtimeDir, 'scrollback.bin'), 'resumed with\r\n');
    writeLaunch(Buffer.byteLength(earlier));
    expect(await keepConsole(runtimeDir, state)).toBe(true);
    await syncStateFiles(state);
    expect(fs.readFileSync(consoleFileOf(state), 'latin1')).toBe('resumed with\r\nthis boot\r\n\x1b[31mred\x1b[0m # ');
  });

  it('is bounded as the scrollback is: the last bytes only', async () => {
    fs.writeFileSync(path.join(runtimeDir, 'scrollback.bin'), 'old seed');
    const log = Buffer.alloc(SCROLLBACK_BYTES + 1000, 'x');
    log.write('END', log.length - 3);
    fs.writeFileSync(serialLog, log);
    writeLaunch(0);
    expect(await keepConsole(runtimeDir, state)).toBe(true);
    const kept = fs.readFileSync(consoleFileOf(state));
    expect(kept.length).toBe(SCROLLBACK_BYTES);
    expect(kept.subarray(-3).toString()).toBe('END');
    expect(kept.includes('old seed')).toBe(false);
  });

  it('is no file for a machine without a serial port, and no file when it cannot be read', async () => {
    fs.writeFileSync(serialLog, 'text');
    writeLaunch(0, false);
    expect(await keepConsole(runtimeDir, state)).toBe(true);
    expect(fs.existsSync(consoleFileOf(state))).toBe(false);
    fs.rmSync(path.join(runtimeDir, 'launch.json'));
    expect(await keepConsole(runtimeDir, state)).toBe(false);
    expect(fs.existsSync(consoleFileOf(state))).toBe(false);
    await syncStateFiles(state);
  });

  it('goes with its state', async () => {
    fs.writeFileSync(serialLog, 'text');
    writeLaunch(0);
    await keepConsole(runtimeDir, state);
    expect(fs.existsSync(consoleFileOf(state))).toBe(true);
    await removeStateFiles(root, path.relative(root, state));
    expect(fs.existsSync(state)).toBe(false);
    expect(fs.existsSync(consoleFileOf(state))).toBe(false);
  });
});
