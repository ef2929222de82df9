import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { machineConfigSchema, type MachineConfig, type PortForward } from '../../api/machine-config.js';
import { buildQemuArgs, guestRamKiB, hostfwdKey, hostfwdRule, optValue, TCG_RAM_PAD_KIB, type LaunchSpec } from './qemu-args.js';

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
  // Only an explicit VMDESK_UPDATE_GOLDEN=1 writes golden files: a missing one fails, in CI above all.
  if (process.env.VMDESK_UPDATE_GOLDEN === '1') fs.writeFileSync(file, text);
  if (!fs.existsSync(file)) throw new Error(`${path.relative(process.cwd(), file)} is missing: VMDESK_UPDATE_GOLDEN=1 writes it`);
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

  it('encrypted disks: one secret object read from the runtime dir FIFO, the LUKS options on each encrypted disk only', () => {
    const rt = `/run/user/1000/vmdesk/${config({}).uuid}`;
    const cfg = config({
      disks: [
        { id: 'disk0', file: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false, encrypted: true },
        { id: 'disk1', file: 'disks/disk1.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false },
      ],
    });
    const base = spec(cfg);
    const args = buildQemuArgs({ ...base, runtime: { ...base.runtime, secret: `${rt}/secret.fifo` } });
    expectGolden('encrypted-disk', args);
    expect(args.filter((a) => a.startsWith('secret,'))).toEqual([`secret,id=vmdesk-key,file=${rt}/secret.fifo`]);
    expect(() => buildQemuArgs(base)).toThrow(/secret FIFO/);
  });

  it('an encrypted disk on snapshots: each backing layer given, the encrypted ones with the key', () => {
    const rt = `/run/user/1000/vmdesk/${config({}).uuid}`;
    const dir = `/home/u/.local/share/vmdesk/machines/web`;
    const cfg = config({
      disks: [{ id: 'disk0', file: 'snapshots/b.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false, encrypted: true }],
    });
    const base = spec(cfg);
    const args = buildQemuArgs({
      ...base,
      runtime: { ...base.runtime, secret: `${rt}/secret.fifo` },
      backingChains: {
        disk0: [
          { file: `${dir}/snapshots/a.qcow2`, format: 'qcow2', encrypted: true },
          { file: `${dir}/disks/base.raw`, format: 'raw', encrypted: false },
        ],
      },
    });
    expectGolden('encrypted-chain', args);
  });

  it('balloon and page sharing switched off', () => {
    const cfg = config({ resources: { ...config({}).resources, balloon: false, pageSharing: false } });
    const args = buildQemuArgs(spec(cfg));
    expect(args.some((a) => a.startsWith('virtio-balloon'))).toBe(false);
    expect(args[args.indexOf('-machine') + 1]).toContain('mem-merge=off');
    const on = buildQemuArgs(spec(config({})));
    expect(on).toContain('virtio-balloon-pci,id=balloon0');
    expect(on[on.indexOf('-machine') + 1]).toContain('mem-merge=on');
  });

  it('gives a TCG guest 8 KiB more RAM (QEMU before 9.0 loses its writes in a live migration otherwise), a KVM one exactly its memory, a resumed state its own', () => {
    const ram = (args: string[]): string | undefined => args[args.indexOf('-m') + 1];
    const cfg = config({ memoryMiB: 128 });
    expect(ram(buildQemuArgs(spec(cfg)))).toBe(`size=${128 * 1024 + TCG_RAM_PAD_KIB}K`);
    // Not a multiple of 64 pages (256 KiB): QEMU's dirty sync takes its slow path, which re-arms the TLB.
    expect(((128 * 1024 + TCG_RAM_PAD_KIB) * 1024) % (64 * 4096)).not.toBe(0);
    expect(ram(buildQemuArgs(spec(cfg, { accel: 'kvm' })))).toBe('size=128M');
    expect(ram(buildQemuArgs(spec(cfg, { ramKiB: 131072 })))).toBe('size=128M');
    expect(guestRamKiB(2048, 'tcg')).toBe(2048 * 1024 + 8);
    expect(guestRamKiB(2048, 'kvm')).toBe(2048 * 1024);
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

describe('network attachments', () => {
  const nics: MachineConfig['nics'] = [
    {
      id: 'net0',
      model: 'virtio-net-pci',
      mac: MAC,
      cable: true,
      attachment: {
        type: 'nat',
        portForwards: [
          { name: 'ssh', protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestAddress: '', guestPort: 22 },
          { name: 'dns', protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestAddress: '10.0.2.15', guestPort: 53 },
        ],
      },
    },
    { id: 'net1', model: 'e1000', mac: '52:54:00:00:00:02', cable: false, attachment: { type: 'bridged', bridge: 'br0' } },
    { id: 'net2', model: 'rtl8139', mac: '52:54:00:00:00:03', cable: true, attachment: { type: 'internal', network: 'lab' } },
    { id: 'net3', model: 'virtio-net-pci', mac: '52:54:00:00:00:04', cable: true, attachment: { type: 'none' } },
  ];
  const extra = { bridgeHelper: '/usr/lib/qemu/qemu-bridge-helper', internalSockets: { net2: '/run/vmdesk/net/0123456789abcdef.sock' } };

  it('nat with forwards, bridged, internal and not attached (golden)', () => {
    expectGolden('network-attachments', buildQemuArgs(spec(config({ nics }), extra)));
  });

  it('needs the helper for a bridged adapter and the socket for an internal one', () => {
    const cfg = config({ nics });
    expect(() => buildQemuArgs(spec(cfg, { internalSockets: extra.internalSockets }))).toThrow(/bridge helper/);
    expect(() => buildQemuArgs(spec(cfg, { bridgeHelper: extra.bridgeHelper }))).toThrow(/switch socket/);
    expect(() => buildQemuArgs(spec(cfg, { ...extra, internalSockets: { ['__proto__']: '/x' } }))).toThrow(/switch socket/);
  });

  it('a bridged machine of a user other than root runs without the seccomp sandbox (no_new_privs stops the setuid helper)', () => {
    const args = buildQemuArgs(spec(config({ nics }), { ...extra, sandbox: false }));
    expect(args).not.toContain('-sandbox');
    expect(buildQemuArgs(spec(config({ nics }), extra))).toContain('-sandbox');
  });

  it('hostfwd text for the monitor commands', () => {
    const rule = { protocol: 'tcp' as const, hostAddress: '127.0.0.1', hostPort: 8080, guestAddress: '', guestPort: 80 };
    expect(hostfwdRule(rule)).toBe('tcp:127.0.0.1:8080-:80');
    expect(hostfwdKey({ ...rule, protocol: 'udp' })).toBe('udp:127.0.0.1:8080');
  });
});

describe('user strings cannot inject options', () => {
  const nat = (rule: Record<string, unknown>): MachineConfig => {
    const cfg = config({});
    const base = { name: 'r', protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestAddress: '', guestPort: 80 };
    const portForwards = [{ ...base, ...rule }] as unknown as PortForward[];
    return { ...cfg, nics: [{ id: 'net0', model: 'virtio-net-pci', mac: MAC, cable: true, attachment: { type: 'nat', portForwards } }] };
  };

  it('a forward whose fields bypassed validation is refused, never spliced into -netdev', () => {
    expect(() => buildQemuArgs(spec(nat({ hostAddress: '127.0.0.1,smb=/' })))).toThrow(/IPv4/);
    expect(() => buildQemuArgs(spec(nat({ guestAddress: '10.0.2.15:1-:2' })))).toThrow(/IPv4/);
    expect(() => buildQemuArgs(spec(nat({ hostPort: '80,hostfwd=tcp::1-:1' })))).toThrow(/port/);
    expect(() => buildQemuArgs(spec(nat({ guestPort: 0 })))).toThrow(/port/);
    expect(() => buildQemuArgs(spec(nat({ protocol: 'tcp,restrict=off' })))).toThrow(/protocol/);
    // The rule's name never reaches QEMU.
    const args = buildQemuArgs(spec(nat({ name: 'x,smb=/etc' })));
    expect(args.join(' ')).not.toContain('smb');
  });

  it('a bridge, a helper and a switch socket with commas stay one value', () => {
    const cfg = config({});
    const withNic = (attachment: MachineConfig['nics'][number]['attachment']): MachineConfig => ({
      ...cfg,
      nics: [{ id: 'net0', model: 'virtio-net-pci', mac: MAC, cable: true, attachment }],
    });
    const bridged = buildQemuArgs(spec(withNic({ type: 'bridged', bridge: 'br0,helper=/bin/sh' }), { bridgeHelper: '/usr/lib/qemu/h' }));
    expect(bridged).toContain('bridge,id=net0,br=br0,,helper=/bin/sh,helper=/usr/lib/qemu/h');
    expect(() => buildQemuArgs(spec(withNic({ type: 'bridged', bridge: 'br0' }), { bridgeHelper: '/tmp/a b;rm -rf x' }))).toThrow(/helper/);
    const internal = buildQemuArgs(
      spec(withNic({ type: 'internal', network: 'lab' }), { internalSockets: { net0: '/run/a,server=on.sock' } }),
    );
    expect(internal).toContain('stream,id=net0,server=off,addr.type=unix,addr.path=/run/a,,server=on.sock');
  });

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
