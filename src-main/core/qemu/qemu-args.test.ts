import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineConfigSchema, type MachineConfig } from '../../api/machine-config.js';
import { buildQemuArgs, optValue, type LaunchSpec } from './qemu-args.js';

const GOLDEN_DIR = path.join(import.meta.dirname, 'golden');

function config(overrides: Partial<MachineConfig>): MachineConfig {
  return machineConfigSchema.parse({
    version: 1,
    uuid: '0b6f3a52-8d0e-4c1b-9a55-3f1d2f7c9e01',
    name: 'web',
    cpus: 2,
    memoryMiB: 512,
    createdAt: '2026-11-25T00:00:00.000Z',
    ...overrides,
  });
}

function spec(cfg: MachineConfig, extra: Partial<LaunchSpec> = {}): LaunchSpec {
  const rt = `/run/user/1000/vmdesk/${cfg.uuid}`;
  return {
    config: cfg,
    machineDir: `/home/u/.local/share/vmdesk/machines/${cfg.name}`,
    accel: 'tcg',
    runtime: { qmp: `${rt}/qmp.sock`, serial: `${rt}/serial.sock`, vnc: `${rt}/vnc.sock`, qemuPid: `${rt}/qemu.pid` },
    serialLog: `/home/u/.local/share/vmdesk/machines/${cfg.name}/logs/serial.log`,
    ...extra,
  };
}

/** One argument per line: a golden file a reviewer can read like a libvirt .args file. */
function expectGolden(name: string, args: string[]): void {
  const file = path.join(GOLDEN_DIR, `${name}.args`);
  const text = args.join('\n') + '\n';
  if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(file)) fs.writeFileSync(file, text);
  expect(text).toBe(fs.readFileSync(file, 'utf8'));
}

const MAC = '52:54:00:12:34:56';

describe('buildQemuArgs (golden)', () => {
  it('minimal BIOS machine with a virtio disk and NAT', () => {
    const cfg = config({
      disks: [{ id: 'disk0', file: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false }],
      nics: [{ id: 'net0', model: 'virtio-net-pci', mac: MAC, cable: true, attachment: { type: 'nat', portForwards: [] } }],
    });
    expectGolden('bios-disk-nat', buildQemuArgs(spec(cfg)));
  });

  it('direct kernel boot, no display, KVM', () => {
    const cfg = config({
      kernelBoot: { kernel: '/cache/vmlinuz', initrd: '/cache/initrd.img', cmdline: 'console=ttyS0 quiet a,b=c' },
      display: { adapter: 'none' },
    });
    expectGolden('kernel-boot-kvm', buildQemuArgs(spec(cfg, { accel: 'kvm' })));
  });

  it('UEFI with CD-ROM first, SATA disks, network boot and an unattached e1000', () => {
    const cfg = config({
      firmware: 'uefi',
      osType: 'windows',
      bootOrder: ['cdrom', 'disk', 'network'],
      cdrom: { file: '/isos/install.iso' },
      disks: [
        { id: 'disk0', file: 'disks/disk0.vdi', format: 'vdi', bus: 'sata', readOnly: false },
        { id: 'disk1', file: '/data/shared.raw', format: 'raw', bus: 'sata', readOnly: true },
      ],
      nics: [
        { id: 'net0', model: 'virtio-net-pci', mac: MAC, cable: true, attachment: { type: 'nat', portForwards: [] } },
        { id: 'net1', model: 'e1000', mac: '52:54:00:ab:cd:ef', cable: true, attachment: { type: 'none' } },
      ],
    });
    expectGolden(
      'uefi-cdrom-sata-netboot',
      buildQemuArgs(spec(cfg, { uefi: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/m/nvram.fd' } })),
    );
  });

  it('an empty CD-ROM drive and no serial port', () => {
    const cfg = config({ cdrom: { file: null }, serial: { enabled: false } });
    expectGolden('empty-cdrom-no-serial', buildQemuArgs(spec(cfg)));
  });
});

describe('user strings cannot inject options', () => {
  it('doubles commas in option values', () => {
    expect(optValue('a,b=c')).toBe('a,,b=c');
    expect(optValue('x,,y')).toBe('x,,,,y');
  });

  it('a machine folder and an ISO path with commas stay one value', () => {
    const cfg = config({ cdrom: { file: '/isos/evil,readonly=off.iso' } });
    const args = buildQemuArgs({ ...spec(cfg), machineDir: '/m/a,b=c', serialLog: '/m/a,b=c/logs/serial.log' });
    const serial = args.find((a) => a.startsWith('socket,id=serial0'));
    expect(serial).toContain('logfile=/m/a,,b=c/logs/serial.log');
    const cd = args.find((a) => a.includes('"node-name":"cd0"'));
    expect(JSON.parse(cd ?? '{}').file.filename).toBe('/isos/evil,readonly=off.iso');
  });

  it('a name that reaches -name is escaped even if validation were bypassed', () => {
    const cfg = { ...config({}), name: 'a,b=c' };
    const args = buildQemuArgs(spec(cfg));
    expect(args[args.indexOf('-name') + 1]).toBe('guest=a,,b=c,debug-threads=on');
  });

  it('requires firmware paths for UEFI', () => {
    expect(() => buildQemuArgs(spec(config({ firmware: 'uefi' })))).toThrow(/UEFI/);
  });
});
