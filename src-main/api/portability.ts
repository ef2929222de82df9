/**
 * Inputs of the portability operations (import, export, P2V, V2P), validated at every boundary.
 * Paths are absolute: a front end resolves them, the core never guesses a working directory.
 */
import { z } from 'zod';
import { absolutePathSchema, machineNameSchema, trustBackingSchema } from './machine-config.js';

export { absolutePathSchema };

export const importOptionsSchema = z
  .object({
    /** The new machine's name; by default the appliance's (or the image file's) name. */
    name: machineNameSchema.optional(),
    /** Backing files of a plain disk image the user confirmed. */
    trustBacking: trustBackingSchema.optional(),
  })
  .strict();
export type ImportOptions = z.input<typeof importOptionsSchema>;

export const v2pOptionsSchema = z
  .object({
    /** Which disk (disk0, disk1...); the first by default. */
    disk: z
      .string()
      .regex(/^disk[0-9]{1,2}$/, 'A disk is named disk0, disk1...')
      .optional(),
    /** Must be true to write to a block device (its content is destroyed). */
    confirmDevice: z.boolean().optional(),
  })
  .strict();
export type V2pOptions = z.input<typeof v2pOptionsSchema>;

/** The result of a finished import or P2V task (TaskInfo.result). */
export interface ImportOutcome {
  uuid: string;
  name: string;
  warnings: string[];
}

/** The result of a finished export task. */
export interface ExportOutcome {
  file: string;
  bytes: number;
  warnings: string[];
}

/** The result of a finished V2P task. */
export interface V2pOutcome {
  target: string;
  device: boolean;
  bytes: number;
}

/** What an import would make, read from the descriptor (or the image) without copying anything. */
export interface ApplianceSummary {
  kind: 'ova' | 'ovf' | 'disk';
  name: string;
  osType: 'linux' | 'windows' | 'bsd' | 'other';
  cpus: number;
  memoryMiB: number;
  firmware: 'bios' | 'uefi';
  disks: Array<{ format: string; capacityBytes: number }>;
  nics: number;
  /** The machine boots a kernel carried in the appliance (VMDesk's own exports). */
  kernelBoot: boolean;
  notes: string;
  warnings: string[];
}
