/**
 * Incremental backups as they cross the API boundary: where to back up to, which point of a chain
 * to restore and as what, and what a chain looks like when listed.
 */
import { z } from 'zod';
import { absolutePathSchema, machineNameSchema, passphraseSchema } from './machine-config.js';
import { KEEP_RULES, keepRulesSchema } from './schedule.js';

export const BACKUP_KINDS = ['full', 'incremental'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

export const backupInputSchema = z
  .object({
    /** The backup folder (a USB disk, a NAS mount...): the machine's chain lives in a folder of its own under it. */
    to: absolutePathSchema.optional(),
    /** A full point even when an incremental one could be made. */
    full: z.boolean().optional(),
    /** Retention: keep the newest N points, the older ones merged into the oldest kept (which becomes full). */
    keep: z.int('keep is a whole number').min(1, 'Keep at least the new point').max(10_000).optional(),
    /**
     * Retention as for scheduled snapshots (Proxmox's keep-last/hourly/daily/weekly; `keep` is keep-last):
     * a point no rule keeps is merged into the next point that reads through it, or removed when none does.
     */
    retention: keepRulesSchema.optional(),
    /** A stopped machine with encrypted disks: its passphrase, to open them and encrypt the backup (kept in no file). */
    passphrase: passphraseSchema.optional(),
  })
  .strict()
  .refine((b) => b.keep === undefined || b.retention?.keepLast === undefined, {
    message: 'Give keep or keepLast, not both',
    path: ['keep'],
  })
  .refine((b) => b.retention === undefined || KEEP_RULES.some((k) => (b.retention?.[k] ?? 0) > 0), {
    message: 'Keep at least the new point',
    path: ['retention'],
  });
export type BackupInput = z.infer<typeof backupInputSchema>;

/** Where a chain is read from: the machine's last backup folder when absent. */
export const backupSourceSchema = z.object({ from: absolutePathSchema.optional() }).strict();
export type BackupSource = z.infer<typeof backupSourceSchema>;

/**
 * What `verify` reads: the chain, and for its encrypted images, optionally, their passphrase, with
 * which qemu-img checks them too (without it they are checked by checksum and header only).
 */
export const backupVerifyInputSchema = backupSourceSchema.extend({ passphrase: passphraseSchema.optional() }).strict();
export type BackupVerifyInput = z.infer<typeof backupVerifyInputSchema>;

/** A point: its number in the chain, or "latest". */
export const backupPointSchema = z.union([z.int().positive().max(1_000_000), z.literal('latest')]);
export type BackupPointRef = z.infer<typeof backupPointSchema>;

export const backupRestoreInputSchema = z
  .object({
    point: backupPointSchema,
    /** A new machine of this name; absent: over the machine itself (it must be stopped, and `force` given). */
    as: machineNameSchema.optional(),
    force: z.boolean().optional(),
    from: absolutePathSchema.optional(),
    /** A point of encrypted disks: their passphrase, to flatten them into the machine's new encrypted images (kept in no file). */
    passphrase: passphraseSchema.optional(),
  })
  .strict();
export type BackupRestoreInput = z.infer<typeof backupRestoreInputSchema>;

export interface BackupPointSummary {
  point: number;
  kind: BackupKind;
  createdAt: string;
  /** Bytes of this point's files in the backup folder. */
  bytes: number;
  /** Why a point is full when an incremental one was expected; absent for the first and for incremental points. */
  reason?: string;
  /** Some of its images are encrypted (LUKS, the machine's passphrase). */
  encrypted: boolean;
  disks: Array<{ id: string; file: string; virtualSize: number; bytes: number; encrypted: boolean }>;
}

export interface BackupList {
  machine: { uuid: string; name: string };
  /** The chain's folder. */
  dir: string;
  points: BackupPointSummary[];
  totalBytes: number;
}

export interface BackupOutcome {
  point: number;
  kind: BackupKind;
  /** Why full when the chain had points: the bitmap's guarantee was broken, or --full. */
  reason: string | null;
  dir: string;
  bytes: number;
  /** The guest's writable disks' total size (what a full copy would read). */
  virtualBytes: number;
  ms: number;
  /** Where the jobs ran: the running machine's QEMU, or qemu-storage-daemon for a stopped machine. */
  via: 'qemu' | 'qemu-storage-daemon';
  /** Points dropped by --keep. */
  pruned: number[];
}

export interface BackupVerifyOutcome {
  dir: string;
  points: number;
  images: number;
  problems: string[];
}

export interface BackupRestoreOutcome {
  uuid: string;
  name: string;
  dir: string;
  point: number;
}
