/**
 * Inputs of the core's operations, validated at every boundary (CLI, IPC, WebSocket) with the same
 * schemas. The renderer imports these types only.
 */
import { z } from 'zod';
import {
  BOOT_DEVICES,
  DISPLAY_ADAPTERS,
  FIRMWARES,
  MAX_CPUS,
  MAX_MEMORY_MIB,
  MIN_MEMORY_MIB,
  absolutePathSchema,
  cpuCapSchema,
  cpuPinSchema,
  hostPathSchema,
  sharesSchema,
  machineNameSchema,
  newPassphraseSchema,
  osTypeSchema,
  passphraseSchema,
  trustBackingSchema,
} from './machine-config.js';

const cpusSchema = z.int('CPUs must be a whole number').min(1, 'At least 1 CPU').max(MAX_CPUS, `At most ${MAX_CPUS} CPUs`);
const memorySchema = z
  .int('Memory must be a whole number of MiB')
  .min(MIN_MEMORY_MIB, `At least ${MIN_MEMORY_MIB} MiB of memory`)
  .max(MAX_MEMORY_MIB, 'Too much memory');
const MAX_DISK_BYTES = 64 * 1024 ** 4;

/** Kernel and initrd: absolute host paths, or (modify only) files inside the machine folder. */
export const kernelBootInputSchema = z.object({
  kernel: hostPathSchema,
  initrd: hostPathSchema.optional(),
  cmdline: z
    .string()
    .max(4096)
    .refine((s) => !/[\u0000-\u001f]/.test(s), 'No control characters in the kernel command line')
    .optional(),
});

export const createMachineInputSchema = z
  .object({
    name: machineNameSchema,
    osType: osTypeSchema.default('linux'),
    cpus: cpusSchema.default(1),
    memoryMiB: memorySchema.default(512),
    firmware: z.enum(FIRMWARES).default('bios'),
    /** Boot the demo guest (Debian kernel + busybox), built from Debian packages on first use. */
    demo: z.boolean().default(false),
    /** A new empty disk of this many bytes. */
    diskBytes: z.int().positive('The disk size must be positive').max(MAX_DISK_BYTES, 'The disk is too large').optional(),
    /** An existing image converted into the machine folder as qcow2 (the source is left untouched). */
    importDisk: absolutePathSchema.optional(),
    /** An existing image used in place. */
    attachDisk: absolutePathSchema.optional(),
    /** Backing files of importDisk/attachDisk the user confirmed. */
    trustBacking: trustBackingSchema.optional(),
    iso: absolutePathSchema.optional(),
    kernelBoot: kernelBootInputSchema.extend({ kernel: absolutePathSchema, initrd: absolutePathSchema.optional() }).optional(),
    network: z.enum(['nat', 'none']).default('nat'),
    networkBoot: z.boolean().default(false),
    bootOrder: z.array(z.enum(BOOT_DEVICES)).min(1).optional(),
    notes: z.string().max(10000).default(''),
    /** The new or imported disk encrypted (qcow2 LUKS) with this passphrase, which is kept in no file. */
    passphrase: newPassphraseSchema.optional(),
  })
  .refine((v) => !(v.attachDisk && v.passphrase !== undefined), {
    message: 'An attached image is used in place and cannot be encrypted: import it (importDisk) instead',
  })
  .refine((v) => !(v.importDisk && v.attachDisk), { message: 'Use either importDisk or attachDisk, not both' })
  .refine((v) => !(v.demo && (v.kernelBoot || v.iso || v.importDisk || v.attachDisk)), {
    message: 'The demo guest brings its own kernel: do not combine it with an ISO, a disk image or a kernel',
  });
export type CreateMachineInput = z.input<typeof createMachineInputSchema>;

export const modifyMachineInputSchema = z
  .object({
    name: machineNameSchema.optional(),
    osType: osTypeSchema.optional(),
    cpus: cpusSchema.optional(),
    memoryMiB: memorySchema.optional(),
    firmware: z.enum(FIRMWARES).optional(),
    bootOrder: z.array(z.enum(BOOT_DEVICES)).min(1).optional(),
    /** An ISO path, or null to eject. */
    iso: hostPathSchema.nullable().optional(),
    /** Direct kernel boot, or null to boot from the firmware's devices. */
    kernelBoot: kernelBootInputSchema.nullable().optional(),
    displayAdapter: z.enum(DISPLAY_ADAPTERS).optional(),
    serial: z.boolean().optional(),
    notes: z.string().max(10000).optional(),
    /** A virtio-balloon device (next start). */
    balloon: z.boolean().optional(),
    /** The balloon's floor in MiB, or null: the default (half the memory). */
    memoryMinMiB: memorySchema.nullable().optional(),
    memoryShares: sharesSchema.optional(),
    /** Offer the machine's RAM to KSM (next start). */
    pageSharing: z.boolean().optional(),
    /** Percent of one host CPU (up to 100 × vCPUs), or null: no cap. Live on a running machine. */
    cpuCap: cpuCapSchema.nullable().optional(),
    cpuShares: sharesSchema.optional(),
    /** vCPU → host CPU; [] unpins. Live on a running machine. */
    cpuPinning: z.array(cpuPinSchema).max(MAX_CPUS).optional(),
  })
  .strict();
export type ModifyMachineInput = z.input<typeof modifyMachineInputSchema>;

export const deleteMachineInputSchema = z.object({ keepDisks: z.boolean().default(false) });

/** A start's options: the passphrase of a machine with encrypted disks (never stored). */
export const startMachineInputSchema = z.strictObject({
  passphrase: passphraseSchema.optional(),
});
export type StartMachineInput = z.input<typeof startMachineInputSchema>;

export const shutdownInputSchema = z.object({
  /** Power off at once instead of asking the guest (ACPI). */
  force: z.boolean().default(false),
  timeoutMs: z.int().positive().max(3_600_000).default(60_000),
});

/** Text typed into the serial console; `\n` is sent as Enter (CR). */
export const sendTextInputSchema = z.string().max(65536, 'At most 64 KiB at a time');
