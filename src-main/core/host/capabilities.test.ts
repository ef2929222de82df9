// Probes this very host: QEMU 7.2 installed, no /dev/kvm (TCG only), OVMF, SeaBIOS and iPXE present.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipBecause } from '../../integration/skip.js';
import { getHostCapabilities, parseMachineTypes, probeHost, requireQemu } from './capabilities.js';

const hasKvm = fs.existsSync('/dev/kvm');

describe('probeHost on this machine', () => {
  it('finds QEMU 7.2, qemu-img, TCG and the firmware', async () => {
    const started = performance.now();
    const caps = await probeHost();
    const ms = performance.now() - started;
    console.log(`host probe took ${ms.toFixed(1)} ms`);
    expect(caps.qemu).toMatchObject({
      binary: expect.stringMatching(/\/qemu-system-x86_64$/),
      imgBinary: expect.stringMatching(/\/qemu-img$/),
    });
    expect(caps.qemu?.version).toMatch(/^7\.2\.\d+$/);
    expect(caps.accelerators.tcg.available).toBe(true);
    expect(caps.cpus).toBeGreaterThanOrEqual(1);
    expect(caps.memoryMiB).toBeGreaterThan(0);
    expect(caps.freeMemoryMiB).toBeGreaterThan(0);
    expect(caps.freeMemoryMiB).toBeLessThanOrEqual(caps.memoryMiB);
    expect(caps.firmware).toEqual({
      ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      ovmfVars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
      seabios: true,
      ipxe: true,
    });
    expect(requireQemu(caps)).toBe(caps.qemu);
  });

  it('reports KVM unavailable with a reason and prefers TCG', async (ctx) => {
    if (hasKvm) skipBecause(ctx, 'this host has /dev/kvm: the test below checks the verdict on it instead');
    const caps = await probeHost();
    expect(caps.accelerators.kvm).toEqual({ available: false, reason: expect.stringContaining('/dev/kvm does not exist') });
    expect(caps.preferredAccel).toBe('tcg');
  });

  it('reports QEMU’s own words when the device opens but QEMU cannot use KVM', async (ctx) => {
    if (hasKvm) skipBecause(ctx, 'this host has /dev/kvm, which QEMU would open instead of the stand-in device');
    // /dev/null opens read-write, so the probe goes on to start QEMU with -accel kvm, which fails.
    const caps = await probeHost({ kvmDevice: '/dev/null' });
    expect(caps.accelerators.kvm.available).toBe(false);
    expect(caps.accelerators.kvm.reason).toMatch(/kvm/i);
    expect(caps.accelerators.kvm.reason).not.toContain('/dev/null');
    expect(caps.preferredAccel).toBe('tcg');
  });

  // Where /dev/kvm exists, the verdict must match what a machine's vCPU really does with it: some
  // nested hosts create a KVM VM and then abort when the vCPU first runs (MSR 0x10a).
  it('says KVM works exactly when a vCPU with -cpu host keeps running under it', async (ctx) => {
    if (!hasKvm) skipBecause(ctx, 'this host has no /dev/kvm to judge');
    const caps = await probeHost({ env: { ...process.env, VMDESK_NO_PROBE_CACHE: '1' } });
    const child = spawn(
      caps.qemu!.binary,
      ['-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m', '16', '-S', '-nodefaults', '-display', 'none', '-qmp', 'stdio'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const closed = new Promise((r) => child.once('close', r));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.write('{"execute":"qmp_capabilities"}\n{"execute":"cont"}\n');
    await new Promise((r) => setTimeout(r, 1_500));
    const alive = child.exitCode === null && child.signalCode === null;
    child.stdin.end('{"execute":"quit"}\n');
    await closed;
    expect(caps.accelerators.kvm.available).toBe(alive);
    expect(caps.preferredAccel).toBe(alive ? 'kvm' : 'tcg');
    if (!alive) expect(caps.accelerators.kvm.reason).toMatch(/\S/);
    expect(out).toContain('"QMP"'); // QEMU itself started: the vCPU decided
  });
});

describe('QEMU missing', () => {
  it('VMDESK_QEMU=/nonexistent gives qemu null, no accelerator, and requireQemu throws HOST_UNSUPPORTED', async () => {
    const caps = await probeHost({ env: { ...process.env, VMDESK_QEMU: '/nonexistent' } });
    expect(caps.qemu).toBeNull();
    expect(caps.accelerators.tcg.available).toBe(false);
    expect(caps.accelerators.kvm.available).toBe(false);
    expect(caps.preferredAccel).toBeNull();
    expect(() => requireQemu(caps)).toThrow(
      expect.objectContaining({
        code: 'HOST_UNSUPPORTED',
        message: expect.stringContaining('sudo apt-get install qemu-system-x86 qemu-utils'),
      }),
    );
  });

  it('an empty PATH finds no QEMU either', async () => {
    const caps = await probeHost({ env: { PATH: '' } });
    expect(caps.qemu).toBeNull();
  });
});

describe('getHostCapabilities', () => {
  it('probes once per QEMU choice', async () => {
    const env = { ...process.env, VMDESK_QEMU: '/nonexistent' };
    const a = getHostCapabilities({ env });
    expect(getHostCapabilities({ env })).toBe(a);
    const real = getHostCapabilities();
    expect(real).not.toBe(a);
    expect((await a).qemu).toBeNull();
    expect((await real).qemu).not.toBeNull();
    // Probed once: a later call gets the very same answer, not a new probe (a time bound would
    // only measure how loaded the machine is).
    expect(getHostCapabilities()).toBe(real);
    expect(await getHostCapabilities()).toBe(await real);
  });
});

describe('machine types', () => {
  it('reads the versioned q35 types and what q35 is an alias of', () => {
    const help =
      'Supported machines are:\nmicrovm              microvm (i386)\npc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n' +
      'q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\npc-q35-7.2           Standard PC (Q35 + ICH9, 2009)\n' +
      'pc-q35-7.1           Standard PC (Q35 + ICH9, 2009)\npc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n';
    expect(parseMachineTypes(help)).toEqual({ machineTypes: ['pc-q35-7.2', 'pc-q35-7.1'], defaultMachineType: 'pc-q35-7.2' });
    expect(parseMachineTypes('')).toEqual({ machineTypes: [] });
  });
});
