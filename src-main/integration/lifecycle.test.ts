// The demo guest driven through the real CLI: create, start, console, pause/resume, reset, ACPI shutdown.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, ok, pngHasContent, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

async function state(name: string): Promise<string> {
  return (JSON.parse(await ok(sb, ['show', name, '--json'])) as { status: { state: string } }).status.state;
}

describe('demo VM lifecycle through the CLI', () => {
  it('creates the demo VM in one step', async () => {
    const out = await ok(sb, ['create', 'demo', '--demo']);
    expect(out).toMatch(/^Created demo \([0-9a-f-]{36}\)/);
    const list = JSON.parse(await ok(sb, ['list', '--json'])) as Array<{
      config: { name: string; kernelBoot: unknown };
      status: { state: string };
    }>;
    expect(list).toHaveLength(1);
    expect(list[0]?.config.name).toBe('demo');
    expect(list[0]?.status.state).toBe('stopped');
    expect(fs.existsSync(path.join(sb.home, 'machines', 'demo', 'boot', 'vmlinuz'))).toBe(true);
  });

  it('starts, reaches the shell prompt and answers on the serial console', async () => {
    expect(await ok(sb, ['start', 'demo'])).toMatch(/demo is running \(TCG\)/);
    expect(await state('demo')).toBe('running');
    await ok(sb, ['wait', 'demo', '--text', PROMPT, '--timeout', '90']);
    await ok(sb, ['send', 'demo', 'echo $((6*7))\\n']);
    await ok(sb, ['wait', 'demo', '--text', '\n42', '--timeout', '30']);
    const log = await ok(sb, ['log', 'demo']);
    expect(log).toContain('echo $((6*7))');
    expect(log).toMatch(/\r?\n42\r?\n/);
  });

  it('refuses to start a running VM or delete it', async () => {
    const again = await vmdesk(sb, ['start', 'demo']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('demo is already running');
    const del = await vmdesk(sb, ['delete', 'demo']);
    expect(del.code).toBe(5);
    expect(del.stderr).toMatch(/demo is running: stop it before deleting it/);
  });

  it('pauses and resumes: a paused guest does not run', async () => {
    expect(await ok(sb, ['pause', 'demo'])).toContain('demo is paused');
    expect(await state('demo')).toBe('paused');
    await ok(sb, ['send', 'demo', 'echo resumed-$((100+23))\\n']);
    const waitWhilePaused = await vmdesk(sb, ['wait', 'demo', '--text', 'resumed-123', '--timeout', '2']);
    expect(waitWhilePaused.code).toBe(9);
    expect(await ok(sb, ['resume', 'demo'])).toContain('demo is running');
    await ok(sb, ['wait', 'demo', '--text', 'resumed-123', '--timeout', '30']);
  });

  it('takes a screenshot of the guest display', async () => {
    const file = path.join(sb.home, 'shot.png');
    await ok(sb, ['screenshot', 'demo', file]);
    expect(fs.readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    expect(pngHasContent(file)).toBe(true);
  });

  it('resets the guest, which boots again', async () => {
    await ok(sb, ['reset', 'demo']);
    await ok(sb, ['wait', 'demo', '--text', PROMPT, '--timeout', '90', '--from-now']);
    expect(await state('demo')).toBe('running');
  });

  it('shuts down through ACPI and reaches stopped', async () => {
    expect(await ok(sb, ['stop', 'demo', '--timeout', '60'])).toContain('demo is stopped');
    expect(await state('demo')).toBe('stopped');
    expect(fs.readdirSync(sb.runtime)).toEqual([]);
  });

  it('applies a changed setting at the next start, then powers off with --force', async () => {
    await ok(sb, ['modify', 'demo', '--memory', '300', '--cpus', '2']);
    await ok(sb, ['start', 'demo']);
    await ok(sb, ['wait', 'demo', '--text', PROMPT, '--timeout', '90']);
    await ok(sb, ['send', 'demo', 'grep -c ^processor /proc/cpuinfo; echo mem=$(grep MemTotal /proc/meminfo)\\n']);
    await ok(sb, ['wait', 'demo', '--text', 'mem=MemTotal', '--timeout', '30']);
    expect(await ok(sb, ['log', 'demo'])).toMatch(/\n2\r?\n/);
    expect(await ok(sb, ['stop', 'demo', '--force'])).toContain('demo is stopped');
  });

  it('deletes the VM and its folder', async () => {
    expect(await ok(sb, ['delete', 'demo'])).toContain('Deleted demo');
    expect(fs.readdirSync(path.join(sb.home, 'machines'))).toEqual([]);
    expect(JSON.parse(await ok(sb, ['list', '--json']))).toEqual([]);
  });
});
