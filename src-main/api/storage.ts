/**
 * Clones, move, disks and media as they cross the API boundary: input schemas and result shapes.
 */
import { z } from 'zod';
import { DISK_BUSES, absolutePathSchema, machineNameSchema, passphraseSchema, trustBackingSchema } from './machine-config.js';

const MAX_DISK_BYTES = 64 * 1024 ** 4;
const diskBytes = z
  .int('A disk size must be a whole number of bytes')
  .positive('A disk size must be positive')
  .max(MAX_DISK_BYTES, 'The disk is too large');

export const cloneMachineInputSchema = z
  .object({
    name: machineNameSchema,
    /** Copy-on-write overlays on a snapshot's frozen images instead of independent copies. */
    linked: z.boolean().default(false),
    /** Clone this snapshot (name or id) instead of the current state. */
    snapshot: z.string().min(1).max(256).optional(),
    /**
     * A machine with encrypted disks: its passphrase, which the clone's disks are encrypted with too
     * (kept in no file). Needed unless the clone is linked and the source runs (its QEMU holds the key).
     */
    passphrase: passphraseSchema.optional(),
  })
  .strict();
export type CloneMachineInput = z.input<typeof cloneMachineInputSchema>;

export const moveTargetSchema = absolutePathSchema;

export const diskIdSchema = z.string().regex(/^disk[0-9]{1,2}$/, 'A disk id looks like disk0, disk1…');

export const addDiskInputSchema = z
  .object({
    /** A new empty image of this many bytes… */
    sizeBytes: diskBytes.optional(),
    format: z.enum(['qcow2', 'raw']).optional(),
    /** …or an existing image (absolute path), used in place. */
    file: absolutePathSchema.optional(),
    /** Backing files of `file` the user confirmed. */
    trustBacking: trustBackingSchema.optional(),
    bus: z.enum(DISK_BUSES).optional(),
  })
  .strict()
  .refine((v) => (v.sizeBytes === undefined) !== (v.file === undefined), {
    message: 'Give either sizeBytes for a new disk or file for an existing image',
  })
  .refine((v) => !(v.file !== undefined && v.format !== undefined), { message: 'The format of an existing image is read from it' });
export type AddDiskInput = z.input<typeof addDiskInputSchema>;

export const removeDiskOptionsSchema = z.object({ deleteFile: z.boolean().optional() }).strict();
export const resizeDiskOptionsSchema = z.object({ forceShrink: z.boolean().optional() }).strict();
export const resizeBytesSchema = diskBytes;

export interface CloneOutcome {
  uuid: string;
  name: string;
  dir: string;
  disks: Array<{ id: string; method: 'reflink' | 'convert' | 'overlay'; file: string }>;
}

export interface MoveOutcome {
  from: string;
  dir: string;
  method: 'link' | 'copy';
}

export interface DiskOutcome {
  /** True when the running guest saw the change at once; false when it applies at the next start. */
  live: boolean;
  warnings: string[];
}

export interface ImageUserInfo {
  uuid: string;
  name: string;
  /** disk0…, or cdrom. */
  device: string;
  use: 'disk' | 'backing' | 'snapshot' | 'cdrom';
  snapshot?: string;
}

export interface MediumInfo {
  file: string;
  kind: 'disk' | 'iso';
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile: string | null;
  backingChain: string[];
  users: ImageUserInfo[];
  error?: string;
}
