// A machine builds the same virtual hardware wherever and whenever it starts: its versioned machine
// type is pinned in its config (pc-q35-7.2, never the bare `q35` alias that a QEMU upgrade or
// another host would read differently) — at creation, or at the first start of a machine made
// before pinning existed; a type the host's QEMU cannot build is refused before QEMU runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

let sb: Sandbox;
const aliasTarget = /\(alias of (pc-q35-\d+\.\d+)\)/.exec(
  spawnSync('qemu-system-x86_64', ['-machine', 'help'], { encoding: 'utf8' })
    .stdout.split('\n')
    .find((l) => l.startsWith('q35 ')) ?? '',
)?.[1];

function machineJson(name: string): { file: string; config: Record<string, unknown> } {
  const file = path.join(sb.home, 'machines', name, 'machine.json');
  return { file, config: JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> };
}

function qemuCmdline(name: string): string {
  const { config } = machineJson(name);
  const pid = fs.readFileSync(path.join(sb.runtime, String(config.uuid), 'qemu.pid'), 'utf8').trim();
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
}

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

describe('machine type pinning', () => {
  it('pins a new machine to the versioned type and QEMU builds exactly that', async () => {
    expect(aliasTarget).toMatch(/^pc-q35-\d+\.\d+$/);
    await ok(sb, ['create', 'pinned', '--demo', '--memory', '96']);
    expect(machineJson('pinned').config.machineType).toBe(aliasTarget);
    await ok(sb, ['start', 'pinned']);
    expect(qemuCmdline('pinned')).toContain(`type=${aliasTarget},`);
    await ok(sb, ['stop', 'pinned', '--force']);
  });

  it('pins a machine made before pinning at its next start', async () => {
    await ok(sb, ['create', 'older', '--demo', '--memory', '96']);
    const { file, config } = machineJson('older');
    delete config.machineType;
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    await ok(sb, ['start', 'older']);
    expect(machineJson('older').config.machineType).toBe(aliasTarget);
    expect(qemuCmdline('older')).toContain(`type=${aliasTarget},`);
    await ok(sb, ['stop', 'older', '--force']);
  });

  it('refuses a machine type this QEMU cannot build, before QEMU runs', async () => {
    await ok(sb, ['create', 'future', '--demo', '--memory', '96']);
    const { file, config } = machineJson('future');
    fs.writeFileSync(file, JSON.stringify({ ...config, machineType: 'pc-q35-99.0' }, null, 2));
    const run = await vmdesk(sb, ['start', 'future']);
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/future is a pc-q35-99\.0 machine, which QEMU [\d.]+ cannot build \(it has pc-q35-/);
    expect(fs.existsSync(path.join(sb.runtime, String(config.uuid), 'qemu.pid'))).toBe(false);
  });
});
