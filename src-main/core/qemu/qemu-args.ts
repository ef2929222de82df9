/**
 * The QEMU command line, composed from small pure builders, one per section (UTM's approach),
 * golden-tested like libvirt's XML → argv tests. Every user string that lands inside a
 * `key=value,...` option goes through `optValue`, so a comma can never start a new option.
 * Block devices use -blockdev JSON, which needs no comma escaping at all.
 */
import path from 'node:path';
import {
  IPV4_RE,
  type BootDevice,
  type DiskConfig,
  type MachineConfig,
  type NicConfig,
  type PortForward,
} from '../../api/machine-config.js';
import { LUKS_ENCRYPT, secretObject } from '../storage/secret-fifo.js';

export interface LaunchSpec {
  config: MachineConfig;
  /** Absolute machine folder; relative disk paths are resolved against it. */
  machineDir: string;
  accel: 'kvm' | 'tcg';
  /** Absolute paths of the runtime dir files. */
  runtime: { qmp: string; serial: string; vnc: string; qemuPid: string; secret?: string };
  serialLog: string;
  /** Required when config.firmware is 'uefi'. */
  uefi?: { code: string; vars: string };
  /** Required when an adapter is bridged: the qemu-bridge-helper QEMU runs to make the tap device. */
  bridgeHelper?: string;
  /**
   * false only for a bridged machine of a user other than root: the seccomp sandbox sets
   * no_new_privs, which keeps the setuid bridge helper from gaining the rights to make a tap device.
   */
  sandbox?: boolean;
  /** Required for each internal adapter: its network's switch socket, by adapter id (net0..net3). */
  internalSockets?: Record<string, string>;
  /** The guest RAM of a saved state being resumed, in KiB (a state loads only into RAM of its own size). */
  ramKiB?: number;
  /** Each encrypted disk's backing files (absolute), top first: see `imageNode`. */
  backingChains?: Record<string, BackingLayer[]>;
}

export interface BackingLayer {
  file: string;
  format: string;
  encrypted: boolean;
}

/**
 * Extra guest RAM under TCG. QEMU before 9.0 loses guest writes during a live migration (or a live
 * snapshot) under TCG: its dirty-page sync has a fast path, taken when a RAM block is a whole multiple
 * of 64 pages, that clears the migration's dirty bits without re-arming the vCPUs' TLB entries, so a
 * page written again through a TLB entry already marked dirty is never sent again — the guest comes up
 * on the other side with stale kernel memory and panics (seen here: 1 migration in 2 of a guest busy
 * writing memory). Fixed upstream by 03bfc2188f ("physmem: Fix migration dirty bitmap coherency with
 * TCG memory access", QEMU 9.0). 8 KiB more (QEMU rounds RAM to 8 KiB) sends every sync down the slow
 * path, which re-arms the TLB for each page it clears. KVM tracks writes in the host kernel: no pad.
 */
export const TCG_RAM_PAD_KIB = 8;

/** The RAM QEMU is given for `memoryMiB` of guest memory under `accel`, in KiB. */
export function guestRamKiB(memoryMiB: number, accel: 'kvm' | 'tcg'): number {
  return memoryMiB * 1024 + (accel === 'tcg' ? TCG_RAM_PAD_KIB : 0);
}

/** Escape a value for QEMU's `key=value,key=value` option syntax: commas are doubled. */
export function optValue(value: string): string {
  return value.replaceAll(',', ',,');
}

function opts(parts: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(parts)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([key, value]) => {
      const text = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
      return `${key}=${optValue(text)}`;
    })
    .join(',');
}

/** Files of a machine (disks, kernel) may be relative to its folder, so the folder can move. */
export function resolveMachinePath(machineDir: string, file: string): string {
  return path.isAbsolute(file) ? file : path.join(machineDir, file);
}

/** Boot priorities: each device class gets a block of indices in bootOrder's order. */
export function bootIndices(config: MachineConfig): Map<BootDevice, number> {
  const base = new Map<BootDevice, number>();
  config.bootOrder.forEach((device, position) => base.set(device, (position + 1) * 10));
  return base;
}

function machineSection(spec: LaunchSpec): string[] {
  const { config, accel } = spec;
  const ramKiB = spec.ramKiB ?? guestRamKiB(config.memoryMiB, accel);
  return [
    '-name',
    opts({ guest: config.name, 'debug-threads': true }),
    '-uuid',
    config.uuid,
    '-machine',
    // mem-merge: QEMU offers the guest's RAM to KSM (page sharing) unless the machine says no.
    opts({ type: config.machineType ?? 'q35', vmport: false, 'dump-guest-core': false, 'mem-merge': config.resources.pageSharing }),
    '-accel',
    accel,
    '-cpu',
    accel === 'kvm' ? 'host' : 'max',
    '-smp',
    opts({ cpus: config.cpus, sockets: 1, cores: config.cpus, threads: 1 }),
    '-m',
    opts({ size: ramKiB % 1024 === 0 ? `${ramKiB / 1024}M` : `${ramKiB}K` }),
    '-rtc',
    opts({ base: config.osType === 'windows' ? 'localtime' : 'utc' }),
    '-nodefaults',
    '-no-user-config',
    // Started paused: the agent connects QMP and the console first, then sends `cont`.
    '-S',
    '-msg',
    'timestamp=on',
    '-pidfile',
    spec.runtime.qemuPid,
    // seccomp: a compromised QEMU may not gain privileges or use obsolete syscalls.
    ...(spec.sandbox === false ? [] : ['-sandbox', 'on,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny']),
    '-device',
    'pvpanic',
  ];
}

/** The id of the virtio-balloon device: its QOM path is /machine/peripheral/<id>. */
export const BALLOON_ID = 'balloon0';

/**
 * The memory balloon (on unless the machine switched it off). No deflate-on-oom: with it the guest
 * keeps counting ballooned pages as its own (MemTotal unchanged), and could take back memory the
 * host policy reclaimed; the policy's minimum is the guest's guarantee instead.
 */
function balloonSection(spec: LaunchSpec): string[] {
  if (!spec.config.resources.balloon) return [];
  return ['-device', `virtio-balloon-pci,${opts({ id: BALLOON_ID })}`];
}

function firmwareSection(spec: LaunchSpec): string[] {
  if (spec.config.firmware !== 'uefi') return [];
  if (!spec.uefi) throw new Error('UEFI firmware paths are required for a UEFI machine');
  return [
    '-drive',
    opts({ if: 'pflash', format: 'raw', unit: 0, readonly: true, file: spec.uefi.code }),
    '-drive',
    opts({ if: 'pflash', format: 'raw', unit: 1, file: spec.uefi.vars }),
  ];
}

/**
 * One image's node. QEMU passes no key down to a backing file it opens itself, so under an encrypted
 * image (the snapshots of an encrypted disk are encrypted too) each backing layer is given here,
 * each encrypted one with the key; the bottom one's own backing, if any, is left to its header.
 * Backing layers say no `read-only`: QEMU opens them read-only, and reopens one read-write when a
 * snapshot's deletion streams into it.
 */
export function imageNode(
  format: string,
  filename: string,
  readOnly: boolean | undefined,
  encrypted: boolean,
  below: BackingLayer[],
): Record<string, unknown> {
  const [backing, ...rest] = below;
  const mode = readOnly === undefined ? {} : { 'read-only': readOnly };
  return {
    driver: format,
    ...mode,
    file: { driver: 'file', filename, ...mode },
    ...(encrypted ? { encrypt: LUKS_ENCRYPT } : {}),
    ...(backing ? { backing: imageNode(backing.format, backing.file, undefined, backing.encrypted, rest) } : {}),
  };
}

function blockdev(
  nodeName: string,
  format: string,
  filename: string,
  readOnly: boolean,
  encrypted = false,
  below: BackingLayer[] = [],
): string {
  return JSON.stringify({ 'node-name': nodeName, ...imageNode(format, filename, readOnly, encrypted, below) });
}

/**
 * The secret object encrypted disks are opened with: QEMU reads the passphrase from a FIFO in the
 * runtime dir, which the agent feeds (see storage/secret-fifo.ts); the passphrase is never an argument.
 */
function secretSection(spec: LaunchSpec): string[] {
  if (!spec.config.disks.some((d) => d.encrypted === true)) return [];
  if (!spec.runtime.secret) throw new Error('The secret FIFO is required for a machine with encrypted disks');
  return ['-object', secretObject(spec.runtime.secret)];
}

/** q35's built-in AHCI controller exposes the buses ide.0 … ide.5. */
const AHCI_PORTS = 6;

function storageSection(spec: LaunchSpec): string[] {
  const { config, machineDir } = spec;
  const boot = bootIndices(config);
  const args: string[] = [];
  let ahciPort = 0;
  const nextAhciPort = (): number => {
    if (ahciPort >= AHCI_PORTS) throw new Error('Too many SATA devices (at most 6 with the CD-ROM)');
    return ahciPort++;
  };
  const diskBoot = boot.get('disk');
  config.disks.forEach((disk: DiskConfig, index) => {
    const file = resolveMachinePath(machineDir, disk.file);
    const below = disk.encrypted === true ? spec.backingChains?.[disk.id] : undefined;
    args.push('-blockdev', blockdev(disk.id, disk.format, file, disk.readOnly, disk.encrypted === true, below));
    const bootindex = diskBoot === undefined || config.kernelBoot ? undefined : diskBoot + index;
    // A full host filesystem pauses the guest (resumable once space is freed) instead of failing its
    // write, which a guest filesystem answers by going read-only; other errors reach the guest.
    // Said here, not left to QEMU's defaults: with -blockdev these belong to the device.
    const onError = { werror: 'enospc', rerror: 'report' };
    if (disk.bus === 'virtio') {
      args.push('-device', `virtio-blk-pci,${opts({ drive: disk.id, id: `${disk.id}-dev`, bootindex, ...onError })}`);
    } else {
      args.push('-device', `ide-hd,${opts({ drive: disk.id, bus: `ide.${nextAhciPort()}`, id: `${disk.id}-dev`, bootindex, ...onError })}`);
    }
  });
  if (config.cdrom) {
    const cdBoot = boot.get('cdrom');
    const bootindex = cdBoot === undefined || config.kernelBoot ? undefined : cdBoot;
    const port = nextAhciPort();
    if (config.cdrom.file) {
      args.push('-blockdev', blockdev('cd0', 'raw', resolveMachinePath(machineDir, config.cdrom.file), true));
      args.push('-device', `ide-cd,${opts({ drive: 'cd0', bus: `ide.${port}`, id: 'cd0-dev', bootindex })}`);
    } else {
      args.push('-device', `ide-cd,${opts({ bus: `ide.${port}`, id: 'cd0-dev', bootindex })}`);
    }
  }
  return args;
}

function kernelSection(spec: LaunchSpec): string[] {
  const boot = spec.config.kernelBoot;
  if (!boot) return [];
  // -kernel/-initrd/-append take their argument verbatim (not keyval), so no escaping applies.
  const args = ['-kernel', resolveMachinePath(spec.machineDir, boot.kernel)];
  if (boot.initrd) args.push('-initrd', resolveMachinePath(spec.machineDir, boot.initrd));
  if (boot.cmdline) args.push('-append', boot.cmdline);
  return args;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Invalid port ${String(port)}`);
  return port;
}

function checkAddress(address: string, allowEmpty: boolean): string {
  if ((allowEmpty && address === '') || IPV4_RE.test(address)) return address;
  throw new Error(`Invalid IPv4 address ${JSON.stringify(address)}`);
}

/**
 * A rule as QEMU's hostfwd spells it: `tcp:127.0.0.1:8080-:80`. Only checked numbers, addresses and
 * the protocol enum go in (never the rule's name), so nothing in it can open another option. The same
 * text, after `netN `, is what the HMP command hostfwd_add takes.
 */
export function hostfwdRule(rule: Pick<PortForward, 'protocol' | 'hostAddress' | 'hostPort' | 'guestAddress' | 'guestPort'>): string {
  return `${hostfwdKey(rule)}-${checkAddress(rule.guestAddress, true)}:${checkPort(rule.guestPort)}`;
}

/** What hostfwd_remove takes to name a rule: `tcp:127.0.0.1:8080`. */
export function hostfwdKey(rule: Pick<PortForward, 'protocol' | 'hostAddress' | 'hostPort'>): string {
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') throw new Error(`Invalid protocol ${JSON.stringify(rule.protocol)}`);
  return `${rule.protocol}:${checkAddress(rule.hostAddress, true)}:${checkPort(rule.hostPort)}`;
}

/** The QMP id of an adapter's device (set_link takes it). */
export function nicDeviceId(nicId: string): string {
  return `${nicId}-dev`;
}

function nicDevice(nic: NicConfig, bootindex: number | undefined, attached: boolean): string {
  return `${nic.model},${opts({
    netdev: attached ? nic.id : undefined,
    id: nicDeviceId(nic.id),
    mac: nic.mac,
    bootindex,
    // The iPXE option ROM is only worth its load time when the machine may boot from the network.
    romfile: bootindex === undefined ? '' : undefined,
  })}`;
}

/** The -netdev of one adapter, or null when it is not attached (the device is there, cable-less). */
function netdev(spec: LaunchSpec, nic: NicConfig): string | null {
  const { attachment } = nic;
  switch (attachment.type) {
    case 'nat':
      return [`user,${opts({ id: nic.id })}`, ...attachment.portForwards.map((rule) => `hostfwd=${optValue(hostfwdRule(rule))}`)].join(',');
    case 'bridged': {
      const helper = spec.bridgeHelper;
      if (!helper) throw new Error(`The bridge helper path is required for the bridged adapter ${nic.id}`);
      // QEMU runs a helper path with blanks through /bin/sh -c: only a plain absolute path is let through.
      if (!/^\/[\w./+-]+$/.test(helper)) throw new Error(`Unusable bridge helper path ${JSON.stringify(helper)}`);
      return `bridge,${opts({ id: nic.id, br: attachment.bridge, helper })}`;
    }
    case 'internal': {
      const socket = spec.internalSockets && Object.hasOwn(spec.internalSockets, nic.id) ? spec.internalSockets[nic.id] : undefined;
      if (!socket) throw new Error(`The switch socket of internal network ${JSON.stringify(attachment.network)} is required for ${nic.id}`);
      // QEMU 7.2 parses stream netdevs as keyval, where ',,' is a literal comma as well.
      return `stream,${opts({ id: nic.id, server: false, 'addr.type': 'unix', 'addr.path': socket })}`;
    }
    case 'none':
      return null;
  }
}

function networkSection(spec: LaunchSpec): string[] {
  const { config } = spec;
  const netBoot = config.kernelBoot ? undefined : bootIndices(config).get('network');
  const args: string[] = [];
  config.nics.forEach((nic, index) => {
    const bootindex = netBoot === undefined ? undefined : netBoot + index;
    const backend = netdev(spec, nic);
    if (backend) args.push('-netdev', backend);
    args.push('-device', nicDevice(nic, bootindex, backend !== null));
  });
  return args;
}

function displaySection(spec: LaunchSpec): string[] {
  const adapter = spec.config.display.adapter;
  if (adapter === 'none') return ['-display', 'none'];
  const device = { std: 'VGA', virtio: 'virtio-vga', cirrus: 'cirrus-vga' }[adapter];
  return [
    '-device',
    device,
    '-device',
    'qemu-xhci,id=usb',
    '-device',
    'usb-tablet,bus=usb.0',
    '-display',
    'none',
    '-vnc',
    `unix:${optValue(spec.runtime.vnc)}`,
  ];
}

function chardevSection(spec: LaunchSpec): string[] {
  const args = [
    '-chardev',
    `socket,${opts({ id: 'qmp', path: spec.runtime.qmp, server: true, wait: false })}`,
    '-mon',
    'chardev=qmp,mode=control',
  ];
  if (spec.config.serial.enabled) {
    args.push(
      '-chardev',
      `socket,${opts({ id: 'serial0', path: spec.runtime.serial, server: true, wait: false, logfile: spec.serialLog, logappend: true })}`,
      '-device',
      'isa-serial,chardev=serial0,id=serial0-dev',
    );
  }
  return args;
}

/** The full argv (without the binary) for a machine config. Pure: same input, same output. */
export function buildQemuArgs(spec: LaunchSpec): string[] {
  return [
    ...machineSection(spec),
    ...firmwareSection(spec),
    ...secretSection(spec),
    ...storageSection(spec),
    ...balloonSection(spec),
    ...kernelSection(spec),
    ...networkSection(spec),
    ...displaySection(spec),
    ...chardevSection(spec),
  ];
}
