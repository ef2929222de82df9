/**
 * The machine configuration as stored in machine.json (versioned) and exchanged over the API.
 * Pipeline on load: migrate old versions → fill defaults → validate (all problems at once).
 */
import { z } from 'zod';

export const CONFIG_VERSION = 1;

export const MAX_NAME_LENGTH = 64;
/**
 * A name is also the machine's folder name, so it must be a safe path component: letters and digits
 * of any script, then also space . _ + ( ) -. No '/', no leading '.', no commas, quotes or control chars.
 */
const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}\p{M} ._+()-]*$/u;

export const machineNameSchema = z
  .string({ error: 'The name must be a string' })
  .min(1, 'The name must not be empty')
  .max(MAX_NAME_LENGTH, `The name must be at most ${MAX_NAME_LENGTH} characters`)
  .refine((s) => NAME_PATTERN.test(s), {
    message:
      'The name may contain letters, digits, spaces and . _ + ( ) - and must start with a letter or digit (no "/", "..", commas, quotes or control characters)',
  })
  .refine((s) => !s.includes('..') && s.trimEnd() === s, {
    message: 'The name must not contain ".." or end with a space',
  });

export const OS_TYPES = ['linux', 'windows', 'bsd', 'other'] as const;
export const osTypeSchema = z.enum(OS_TYPES);

export const FIRMWARES = ['bios', 'uefi'] as const;
export const BOOT_DEVICES = ['disk', 'cdrom', 'network'] as const;
export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc'] as const;
export const DISK_BUSES = ['virtio', 'sata'] as const;
export const NIC_MODELS = ['virtio-net-pci', 'e1000', 'rtl8139'] as const;
export const DISPLAY_ADAPTERS = ['std', 'virtio', 'cirrus', 'none'] as const;

export const MAX_CPUS = 256;
export const MIN_MEMORY_MIB = 16;
export const MAX_MEMORY_MIB = 4 * 1024 * 1024;

const noControlChars = (s: string): boolean => !/[\u0000-\u001f\u007f]/.test(s);
export const hostPathSchema = z
  .string()
  .min(1, 'The path must not be empty')
  .max(4096, 'The path is too long')
  .refine(noControlChars, 'The path must not contain control characters');

/** A host path a front end hands over: absolute, since the core never guesses a working directory. */
export const absolutePathSchema = hostPathSchema.refine((p) => p.startsWith('/'), 'The path must be absolute');

/**
 * Backing files the user confirmed for an image VMDesk did not create: a chain is used (in place,
 * or copied in) only when every file of it is listed here, by path.
 */
export const trustBackingSchema = z.array(absolutePathSchema).max(16, 'A chain of more than 16 backing files is refused');

export const macSchema = z
  .string()
  .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i, 'A MAC address looks like 52:54:00:12:34:56')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'A MAC address must not be multicast (the first byte must be even)')
  .refine((m) => !/^(00:){5}00$/.test(m), 'A MAC address must not be all zeros');

/** A disk passphrase, as given at a start: it reaches QEMU through a pipe and is kept in no file. */
export const passphraseSchema = z
  .string()
  .min(1, 'The passphrase is empty')
  .max(1024, 'The passphrase is longer than 1024 characters')
  .refine((s) => !s.includes('\u0000'), 'The passphrase must not contain a NUL character');

/** A passphrase chosen for new encrypted disks. */
export const newPassphraseSchema = passphraseSchema.refine((s) => s.length >= 8, 'A disk passphrase needs at least 8 characters');

export const diskSchema = z.object({
  id: z.string().regex(/^disk[0-9]{1,2}$/),
  /** Relative to the machine folder, or absolute for a disk kept elsewhere. */
  file: hostPathSchema,
  format: z.enum(DISK_FORMATS),
  bus: z.enum(DISK_BUSES).default('virtio'),
  readOnly: z.boolean().default(false),
  /**
   * For an image kept elsewhere (attached in place): the backing files the user confirmed. The
   * image is inspected again at every start, and may read from these files only.
   */
  trustedBacking: z.array(hostPathSchema).max(16).optional(),
  /** qcow2 with LUKS encryption: opened with the passphrase given at each start (kept in no file). */
  encrypted: z.boolean().optional(),
});

export const cdromSchema = z.object({
  /** An ISO file on the host, or null for an empty drive. */
  file: hostPathSchema.nullable(),
});

export const kernelBootSchema = z.object({
  kernel: hostPathSchema,
  initrd: hostPathSchema.nullable().default(null),
  cmdline: z.string().max(4096).refine(noControlChars, 'The kernel command line must not contain control characters').default(''),
});

export const MAX_NICS = 4;
export const MAX_PORT_FORWARDS = 64;
export const PORT_PROTOCOLS = ['tcp', 'udp'] as const;

export const portSchema = z
  .int('A port is a whole number from 1 to 65535')
  .min(1, 'A port is a number from 1 to 65535')
  .max(65535, 'A port is a number from 1 to 65535');

/** A dotted IPv4 address (what QEMU's user-mode networking forwards from and to). */
export const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const ipv4Schema = z.string().regex(IPV4_RE, 'An IPv4 address looks like 127.0.0.1');

/**
 * A NAT port-forwarding rule, as in VirtualBox: host address:port → guest port. The name is for
 * people (unique per adapter) and never reaches QEMU.
 */
export const portForwardSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'A rule name is 1–64 letters, digits, spaces, dots, dashes or underscores'),
  protocol: z.enum(PORT_PROTOCOLS).default('tcp'),
  /** The host address to listen on: 127.0.0.1 (this host only) by default, 0.0.0.0 for every interface. */
  hostAddress: ipv4Schema.default('127.0.0.1'),
  hostPort: portSchema,
  /** The guest's address; empty: the address its DHCP lease gives it (10.0.2.15). */
  guestAddress: z.union([ipv4Schema, z.literal('')]).default(''),
  guestPort: portSchema,
});
export type PortForward = z.infer<typeof portForwardSchema>;

/** A host bridge, by its interface name (IFNAMSIZ: at most 15 characters). */
export const bridgeNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'A bridge is a host interface name: 1–15 letters, digits, dots, dashes or underscores');

/** An internal network: every adapter naming it is on one switch, and on nothing else. */
export const internalNetworkNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'An internal network name is 1–63 letters, digits, dots, dashes or underscores');

export const attachmentSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('nat'),
    portForwards: z
      .array(portForwardSchema)
      .max(MAX_PORT_FORWARDS, `At most ${MAX_PORT_FORWARDS} port-forwarding rules per adapter`)
      .default([]),
  }),
  z.object({ type: z.literal('bridged'), bridge: bridgeNameSchema }),
  z.object({ type: z.literal('internal'), network: internalNetworkNameSchema }),
  z.object({ type: z.literal('none') }),
]);
export type NicAttachment = z.infer<typeof attachmentSchema>;
export const ATTACHMENT_TYPES = ['nat', 'bridged', 'internal', 'none'] as const;

export const nicSchema = z.object({
  /** The adapter's slot: net0 is "Adapter 1". */
  id: z.string().regex(/^net[0-3]$/),
  model: z.enum(NIC_MODELS).default('virtio-net-pci'),
  mac: macSchema,
  cable: z.boolean().default(true),
  attachment: attachmentSchema,
});

/** Shares (memory and CPU): a relative weight, 100 by default (Proxmox's unit on cgroup v2). */
export const DEFAULT_SHARES = 100;
export const MAX_SHARES = 10_000;
export const sharesSchema = z
  .int('Shares are a whole number from 1 to 10000')
  .min(1, 'Shares are a whole number from 1 to 10000')
  .max(MAX_SHARES, 'Shares are a whole number from 1 to 10000');

export const memoryMiBSchema = z
  .int('Memory must be a whole number of MiB')
  .min(MIN_MEMORY_MIB, `At least ${MIN_MEMORY_MIB} MiB of memory`)
  .max(MAX_MEMORY_MIB, 'Too much memory');

/** An execution cap: percent of one host CPU (100 = one whole core), up to 100 × the machine's vCPUs. */
export const cpuCapSchema = z
  .int('The CPU cap is a whole number of percent')
  .min(1, 'The CPU cap must be at least 1 % (or off)')
  .max(100 * MAX_CPUS, 'The CPU cap is at most 100 % per vCPU');

export const hostCpuSchema = z.int('A host CPU is a whole number').min(0, 'A host CPU is numbered from 0').max(4095, 'No such host CPU');

export const cpuPinSchema = z.object({
  vcpu: z
    .int('A vCPU is a whole number')
    .min(0, 'vCPUs are numbered from 0')
    .max(MAX_CPUS - 1, 'No such vCPU'),
  hostCpu: hostCpuSchema,
});
export type CpuPin = z.infer<typeof cpuPinSchema>;

/** A machine's resource settings (memory, page sharing, CPU): see api/resources.ts. All optional in machine.json. */
export const resourcesConfigSchema = z.object({
  /** A virtio-balloon device (at the next start). */
  balloon: z.boolean().default(true),
  /** The floor the balloon never goes below; absent: half the machine's memory (see effectiveMinimum). */
  memoryMinMiB: memoryMiBSchema.optional(),
  /** How much memory this machine keeps, relative to the others, when the host is short of it. */
  memoryShares: sharesSchema.default(DEFAULT_SHARES),
  /** QEMU's mem-merge: its RAM is offered to KSM (at the next start). */
  pageSharing: z.boolean().default(true),
  /** Percent of one host CPU, or null: no cap. */
  cpuCap: cpuCapSchema.nullable().default(null),
  cpuShares: sharesSchema.default(DEFAULT_SHARES),
  /** vCPU n runs only on host CPU m. */
  cpuPinning: z
    .array(cpuPinSchema)
    .max(MAX_CPUS)
    .refine((a) => new Set(a.map((p) => p.vcpu)).size === a.length, 'Each vCPU may be pinned only once')
    .default([]),
});
export type ResourcesConfig = z.infer<typeof resourcesConfigSchema>;
/** The settings of a machine that never changed them. */
export function defaultResources(): ResourcesConfig {
  return resourcesConfigSchema.parse({});
}
export const machineTypeSchema = z.string().regex(/^pc-q35-\d{1,3}\.\d{1,3}$/, 'A machine type looks like pc-q35-7.2');

export const machineConfigSchema = z.object({
  version: z.literal(CONFIG_VERSION),
  uuid: z.uuid(),
  name: machineNameSchema,
  osType: osTypeSchema.default('linux'),
  cpus: z.int().min(1, 'At least 1 CPU').max(MAX_CPUS, `At most ${MAX_CPUS} CPUs`),
  memoryMiB: z.int().min(MIN_MEMORY_MIB, `At least ${MIN_MEMORY_MIB} MiB of memory`).max(MAX_MEMORY_MIB, 'Too much memory'),
  firmware: z.enum(FIRMWARES).default('bios'),
  /** The versioned machine type (pc-q35-7.2), pinned at creation or at the first start after an upgrade. */
  machineType: machineTypeSchema.optional(),
  bootOrder: z
    .array(z.enum(BOOT_DEVICES))
    .min(1)
    .refine((a) => new Set(a).size === a.length, 'A boot device may appear only once')
    .default(['disk', 'cdrom', 'network']),
  disks: z
    .array(diskSchema)
    .max(8)
    .refine((a) => new Set(a.map((d) => d.id)).size === a.length, 'Each disk id may appear only once')
    .default([]),
  cdrom: cdromSchema.nullable().default(null),
  kernelBoot: kernelBootSchema.nullable().default(null),
  nics: z
    .array(nicSchema)
    .max(MAX_NICS, `At most ${MAX_NICS} network adapters`)
    .refine((a) => new Set(a.map((n) => n.id)).size === a.length, 'Each network adapter slot may appear only once')
    .refine((a) => new Set(a.map((n) => n.mac.toLowerCase())).size === a.length, 'Two adapters of one machine have the same MAC address')
    .default([]),
  display: z.object({ adapter: z.enum(DISPLAY_ADAPTERS).default('std') }).default({ adapter: 'std' }),
  serial: z.object({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  resources: resourcesConfigSchema.default(defaultResources),
  notes: z.string().max(10000).default(''),
  createdAt: z.iso.datetime(),
});

export type MachineConfig = z.infer<typeof machineConfigSchema>;
export type DiskConfig = z.infer<typeof diskSchema>;
export type NicConfig = z.infer<typeof nicSchema>;
export type DiskFormat = (typeof DISK_FORMATS)[number];
export type BootDevice = (typeof BOOT_DEVICES)[number];

export const MACHINE_STATES = ['stopped', 'starting', 'running', 'paused', 'stopping', 'crashed'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];
