// Bad input: a clear error, a non-zero exit code, and nothing half-created on disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, ok, listMachineDirs, vmdesk, type Sandbox } from './harness.js';

let sb: Sandbox;
let files: string;

beforeAll(() => {
  sb = makeSandbox();
  files = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-bad-'));
});
afterAll(async () => {
  fs.rmSync(files, { recursive: true, force: true });
  await sb.cleanup();
});

async function rejects(args: string[], code: number, message: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await vmdesk(sb, args, env ? { env } : {});
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(code);
  expect(listMachineDirs(sb)).toEqual([]);
}

describe('machine names', () => {
  const bad: Array<[string, RegExp]> = [
    ['a/b', /may contain letters, digits/],
    ['..', /must start with a letter or digit/],
    ['x..y', /must not contain "\.\."/],
    ['../x', /may contain letters/],
    ['a,b=c', /no "\/", "\.\.", commas/],
    ['say "hi"', /quotes/],
    ["it's", /quotes/],
    ['two\nlines', /control characters/],
    ['x'.repeat(300), /at most 64 characters/],
    ['', /must not be empty/],
    ['-rf', /unknown option|must start/],
    ['smile😀', /may contain letters/],
  ];
  for (const [name, message] of bad) {
    it(`rejects ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}… (${name.length} chars)` : name)}`, async () => {
      await rejects(['create', name, '--memory', '64'], 2, message);
    });
  }

  it('accepts letters of any script, and the folder is named after it', async () => {
    await ok(sb, ['create', 'Débian ü 日本', '--memory', '64', '--network', 'none']);
    expect(listMachineDirs(sb)).toEqual(['Débian ü 日本']);
    const dup = await vmdesk(sb, ['create', 'Débian ü 日本', '--memory', '64']);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain('A machine named "Débian ü 日本" already exists');
    await ok(sb, ['delete', 'Débian ü 日本']);
    expect(listMachineDirs(sb)).toEqual([]);
  });
});

describe('resources and media', () => {
  it('rejects 0 and 1000 CPUs, and memory beyond the host', async () => {
    await rejects(['create', 'c0', '--cpus', '0'], 2, /At least 1 CPU/);
    await rejects(['create', 'c1000', '--cpus', '1000'], 2, /At most 256 CPUs/);
    await rejects(['create', 'cx', '--cpus', 'two'], 2, /--cpus must be a whole number/);
    await rejects(['create', 'm', '--memory', String(100 * 1024)], 2, /more than this host has/);
  });

  it('rejects a missing, an unreadable and a fake ISO', async () => {
    await rejects(['create', 'iso', '--iso', path.join(files, 'missing.iso')], 3, /does not exist/);
    const fake = path.join(files, 'fake.iso');
    fs.writeFileSync(fake, Buffer.alloc(64 * 1024, 1));
    await rejects(['create', 'iso', '--iso', fake], 2, /not an ISO 9660 image/);
    await rejects(['create', 'iso', '--iso', files], 2, /is a folder, not a regular file/);
  });

  it('rejects a corrupt disk image and leaves the source alone', async () => {
    const corrupt = path.join(files, 'corrupt.qcow2');
    // A qcow2 header whose L1 table points far beyond the end of the file.
    const header = Buffer.alloc(512);
    header.write('QFI\xfb', 0, 'latin1');
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(1n << 40n, 24);
    header.writeUInt32BE(16, 20);
    header.writeUInt32BE(1 << 20, 36);
    header.writeBigUInt64BE(1n << 50n, 40);
    fs.writeFileSync(corrupt, header);
    const before = fs.readFileSync(corrupt);
    const r = await vmdesk(sb, ['create', 'bad-disk', '--import-disk', corrupt]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/qcow2|image/i);
    expect(listMachineDirs(sb)).toEqual([]);
    expect(fs.readFileSync(corrupt).equals(before)).toBe(true);
  });

  it('reports a missing QEMU clearly when starting', async () => {
    await ok(sb, ['create', 'noqemu', '--memory', '64', '--network', 'none']);
    const r = await vmdesk(sb, ['start', 'noqemu'], { env: { ...sb.env, VMDESK_QEMU: '/nonexistent/qemu-system-x86_64' } });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('QEMU is not installed');
    expect(JSON.parse(await ok(sb, ['show', 'noqemu', '--json'])).status.state).toBe('stopped');
    await ok(sb, ['delete', 'noqemu']);
  });

  it('unknown machines, options and bad sizes', async () => {
    await rejects(['start', 'ghost'], 3, /No machine named "ghost"/);
    await rejects(['create', 'd', '--disk', 'lots'], 2, /size/i);
    await rejects(['create', 'd', '--firmware', 'coreboot'], 2, /Allowed choices are bios, uefi/);
    await rejects(['create', 'd', '--initrd', '/x'], 2, /--initrd and --append need --kernel/);
  });
});
