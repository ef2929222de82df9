// What the README promises of a machine's files: `delete --keep-disks` keeps exactly the disks (and a
// disk attached from elsewhere survives any delete); a UEFI machine boots on its own copy of the OVMF
// variables, which the firmware writes to while the system's template and other machines' copies stay
// as they were. (Config writes under a kill: crash-consistency.test.ts.)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

interface Shown {
  uuid: string;
  dir: string;
  config: { notes: string; cpus: number; disks: Array<{ file: string }> };
}
async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}
async function names(): Promise<string[]> {
  return (JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ config: { name: string } }>).map((m) => m.config.name).sort();
}
function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
function qemuIo(file: string, command: string): string {
  const r = spawnSync('qemu-io', ['-f', 'qcow2', '-c', command, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-io ${command} failed: ${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

describe('delete', () => {
  it('--keep-disks removes the machine and all but its disks, which stay whole and usable', async () => {
    await ok(sb, ['create', 'keeper', '--memory', '64', '--network', 'none', '--disk', '32M']);
    const m = await show('keeper');
    const disk = path.resolve(m.dir, m.config.disks[0]?.file ?? '');
    qemuIo(disk, 'write -P 0x5a 0 1M');
    const sum = sha256(disk);
    const out = await ok(sb, ['delete', 'keeper', '--keep-disks']);
    expect(out).toBe(`Deleted keeper; its disks are kept in ${path.dirname(disk)}\n`);
    expect(await names()).toEqual([]);
    // Only the disks folder is left of the machine's folder.
    expect(fs.readdirSync(m.dir)).toEqual([path.basename(path.dirname(disk))]);
    expect(fs.readdirSync(path.dirname(disk))).toEqual([path.basename(disk)]);
    expect(sha256(disk)).toBe(sum);
    expect(spawnSync('qemu-img', ['check', disk]).status).toBe(0);
    expect(qemuIo(disk, 'read -P 0x5a 0 1M')).toContain('read 1048576/1048576 bytes');
    // The kept disk serves a new machine in place.
    await ok(sb, ['create', 'heir', '--memory', '64', '--network', 'none', '--attach-disk', disk]);
    expect(path.resolve((await show('heir')).dir, (await show('heir')).config.disks[0]?.file ?? '')).toBe(disk);
  });

  it('without --keep-disks removes the folder, but never a disk attached from elsewhere', async () => {
    const heir = await show('heir');
    const outside = path.resolve(heir.dir, heir.config.disks[0]?.file ?? '');
    const sum = sha256(outside);
    expect(await ok(sb, ['delete', 'heir'])).toBe('Deleted heir\n');
    expect(fs.existsSync(heir.dir)).toBe(false);
    expect(sha256(outside)).toBe(sum);
    expect(await names()).toEqual([]);
  });
});

describe('UEFI variables', () => {
  it('each UEFI machine gets its own copy of the OVMF variables; the firmware writes to it, never to the template', async () => {
    const host = JSON.parse(await ok(sb, ['host', '--json'])) as { firmware: { ovmfVars: string } };
    const template = host.firmware.ovmfVars;
    const templateSum = sha256(template);
    for (const name of ['uefi1', 'uefi2']) await ok(sb, ['create', name, '--demo', '--firmware', 'uefi', '--memory', '256']);
    const [one, two] = [await show('uefi1'), await show('uefi2')];
    const vars = [path.join(one.dir, 'nvram.fd'), path.join(two.dir, 'nvram.fd')] as const;
    expect(vars.map(sha256)).toEqual([templateSum, templateSum]);

    await ok(sb, ['start', 'uefi1']);
    await ok(sb, ['wait', 'uefi1', '--text', PROMPT, '--timeout', '150']);
    // QEMU was given the machine's own file as the writable variable store.
    const log = fs.readFileSync(path.join(one.dir, 'logs', 'qemu.log'), 'utf8');
    expect(log).toContain(vars[0]);
    expect(log).not.toContain(template);
    await ok(sb, ['stop', 'uefi1', '--force']);
    // The firmware wrote its variables (boot entries) into the machine's copy only.
    expect(sha256(vars[0])).not.toBe(templateSum);
    expect(sha256(template)).toBe(templateSum);
    expect(sha256(vars[1])).toBe(templateSum);
  });

  it('the demo guest boots its uncompressed kernel on BIOS (its PVH entry) and the bzImage on UEFI; switching an ELF kernel to UEFI is refused', async () => {
    const uefi = await show('uefi1');
    const kernelOf = async (name: string): Promise<string> =>
      (JSON.parse(await ok(sb, ['show', name, '--json'])) as { config: { kernelBoot: { kernel: string } } }).config.kernelBoot.kernel;
    expect(await kernelOf('uefi1')).toBe('boot/vmlinuz');
    expect(
      fs
        .readFileSync(path.join(uefi.dir, 'boot', 'vmlinuz'))
        .subarray(0x202, 0x206)
        .toString('latin1'),
    ).toBe('HdrS');
    await ok(sb, ['create', 'bios-pvh', '--demo', '--memory', '128']);
    const bios = await show('bios-pvh');
    // Under KVM the bzImage decompresses itself in a moment: the uncompressed kernel is for TCG.
    const { preferredAccel } = JSON.parse(await ok(sb, ['host', '--json'])) as { preferredAccel: string };
    if (preferredAccel === 'kvm') {
      expect(await kernelOf('bios-pvh')).toBe('boot/vmlinuz');
      return;
    }
    expect(await kernelOf('bios-pvh')).toBe('boot/vmlinux');
    expect(
      fs
        .readFileSync(path.join(bios.dir, 'boot', 'vmlinux'))
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('\x7fELF');
    await ok(sb, ['start', 'bios-pvh']);
    await ok(sb, ['wait', 'bios-pvh', '--text', PROMPT, '--timeout', '90']);
    await ok(sb, ['stop', 'bios-pvh', '--force']);
    const before = fs.readFileSync(path.join(bios.dir, 'machine.json'), 'utf8');
    const refused = await vmdesk(sb, ['modify', 'bios-pvh', '--firmware', 'uefi']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('bios-pvh boots boot/vmlinux, an uncompressed (ELF) kernel, which UEFI firmware cannot boot directly');
    expect(fs.readFileSync(path.join(bios.dir, 'machine.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(bios.dir, 'nvram.fd'))).toBe(false);
  });
});
