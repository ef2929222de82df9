/**
 * Live migration: a running machine moves to another host by QEMU's pre-copy (RAM sent while the
 * guest runs, dirtied pages re-sent round after round, a short stop-and-copy), its disks mirrored
 * into the destination's NBD exports first — in libvirt's order for migration without shared storage.
 */
import { z } from 'zod';
import { hostNameSchema } from './hosts.js';
import { diskIdSchema } from './storage.js';
import { machineConfigSchema, passphraseSchema } from './machine-config.js';

export const migrateOptionsSchema = z
  .object({
    /** The destination host (a remote host's name). */
    to: hostNameSchema,
    /** The migration stream's limit in MiB/s; none: as fast as the link goes. */
    bandwidthMiBs: z.int().min(1).max(100_000).optional(),
    /** The longest stop-and-copy allowed, in ms (QEMU's downtime-limit; its default is 300). */
    maxDowntimeMs: z.int().min(1).max(60_000).optional(),
    /** Slow the guest's vCPUs down when it dirties memory faster than the link sends it. */
    autoConverge: z.boolean().optional(),
    /** A stopped machine: its folder (disks, snapshots, saved state) copied, nothing to converge. */
    offline: z.boolean().optional(),
    /**
     * A running machine with encrypted disks: its passphrase, which the destination's QEMU opens
     * them with (the source's cannot give its key away). Sent to the destination inside the API call
     * over SSH, kept in no file on either host.
     */
    passphrase: passphraseSchema.optional(),
  })
  .strict()
  .refine((o) => !(o.offline === true && o.passphrase !== undefined), {
    message: 'An offline migration needs no passphrase: encrypted disks travel as they are',
    path: ['passphrase'],
  });
export type MigrateOptions = z.input<typeof migrateOptionsSchema>;

/** What the destination is asked to prepare: the machine's config and its disks' sizes. */
/** A file of a machine folder, by its path inside it: plain names, no `..`. */
export const machineFolderFileSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'A file inside the machine folder')
  .refine((p) => !p.split('/').includes('..'), 'No .. in a machine folder path');

export const incomingInputSchema = z
  .object({
    config: machineConfigSchema,
    disks: z
      .array(
        z
          .object({
            id: diskIdSchema,
            virtualBytes: z.int().positive(),
            /** The disk's top is an overlay on this file of the machine folder (its snapshots): mirrored alone. */
            backing: machineFolderFileSchema.optional(),
          })
          .strict(),
      )
      .max(16),
    /** The whole folder comes as files (a stopped machine): no empty disks, no QEMU. */
    offline: z.boolean().optional(),
    /**
     * The source QEMU's RAM in KiB, sent when it is not the config's (TCG's pad, or none): a RAM
     * stream loads only into RAM of its own size, whatever this host would give the machine.
     */
    ramKiB: z.int().positive().optional(),
    /** A live migration of a machine with encrypted disks: the passphrase its empty disks are encrypted with here. */
    passphrase: passphraseSchema.optional(),
  })
  .strict();
export type IncomingInput = z.input<typeof incomingInputSchema>;

/**
 * The destination's folder made: for a live migration, where its sockets will be once it starts (the
 * source may forward them through SSH meanwhile; a forward connects only when used).
 */
export interface IncomingReady {
  token: string;
  dir: string;
  nbdSocket?: string;
  migrationSocket?: string;
  /** The files sent ahead go there as raw streams (core/migration/file-stream.ts). */
  filesSocket?: string;
}

/** The destination, ready: its sockets (to forward through SSH) and its NBD export per disk. */
export interface IncomingPrepared {
  token: string;
  dir: string;
  nbdSocket: string;
  migrationSocket: string;
  exports: Record<string, string>;
}

/** A committed incoming migration: how long its guest had run here when the answer left (older VMDesks answer null). */
export interface IncomingCommitted {
  afterResumeMs: number;
}

/** A machine folder's file (a kernel, an initrd) sent ahead, in chunks, as base64. */
export const incomingFileArgs = z.tuple([z.uuid(), machineFolderFileSchema, z.int().nonnegative(), z.base64().max(1024 * 1024)]);

/** One round of the RAM pre-copy, as QMP query-migrate reports it. */
export interface MigrationRound {
  round: number;
  ramTransferredBytes: number;
  ramRemainingBytes: number;
  ramTotalBytes: number;
  dirtyPagesRate: number;
  expectedDowntimeMs: number | null;
  throughputMbps: number;
  at: string;
}

/** A running migration task's `detail`: what the pre-copy view draws. */
export interface MigrationDetail {
  phase: 'preparing' | 'disks' | 'ram' | 'switchover' | 'done';
  /** A stopped machine's folder copied: no RAM rounds. */
  offline: boolean;
  machine: string;
  to: string;
  disk: { doneBytes: number; totalBytes: number };
  rounds: MigrationRound[];
  /** The RAM left is not shrinking from round to round: what to change, in words. */
  notConverging: string | null;
}

/** Why a machine cannot migrate to a host now: every problem, for the dialog to list before anything starts. */
export interface MigrationPreflight {
  problems: string[];
  /** A live migration of a machine with encrypted disks: its passphrase must be given to start it. */
  needsPassphrase: boolean;
}

/**
 * A live migration's phases: checks (preflight), prepare (the folder and empty disks there), files
 * (boot files and snapshot images sent), start (QEMU there, NBD exports, SSH forwards), disks (the
 * mirrors until ready), ram (pre-copy until the pause), switchover (mirrors completed, last RAM),
 * commit (the destination continued and registered), qemuFigures (QEMU's downtime figure awaited),
 * sourceStop (this QEMU ended), sourceDelete (this copy removed).
 */
export type MigrationPhases = Partial<
  Record<
    'checks' | 'prepare' | 'files' | 'start' | 'disks' | 'ram' | 'switchover' | 'commit' | 'qemuFigures' | 'sourceStop' | 'sourceDelete',
    number
  >
>;

export interface MigrationOutcome {
  name: string;
  to: string;
  totalMs: number;
  /** How long the guest was paused: from the stop for switchover until the destination continued it. */
  downtimeMs: number | null;
  /** QEMU's own downtime figure (the stop-and-copy alone). */
  qemuDowntimeMs?: number | null;
  /**
   * What QEMU sent while the guest was paused: the RAM still dirty when it stopped the guest, and the
   * devices' state. QEMU stops the guest once what is left would take no longer than the max downtime
   * at the measured throughput, so this amount, and the downtime with it, changes from one migration
   * to the next (null when QEMU does not count it).
   */
  ramDowntimeBytes?: number | null;
  /** Where the time went, in order (a live migration): each phase's milliseconds. */
  phasesMs?: MigrationPhases;
  rounds: MigrationRound[];
  ramBytes: number;
  diskBytes: number;
  warnings: string[];
}
