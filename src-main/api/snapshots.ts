/**
 * Snapshots and saved states as they cross the API boundary: input schemas and the tree the UI shows.
 */
import { z } from 'zod';
import { passphraseSchema } from './machine-config.js';

const noControlChars = (s: string): boolean => !/[\u0000-\u001f\u007f]/.test(s);

export const MAX_SNAPSHOT_NAME_LENGTH = 64;

export const snapshotNameSchema = z
  .string({ error: 'The snapshot name must be a string' })
  .min(1, 'The snapshot name must not be empty')
  .max(MAX_SNAPSHOT_NAME_LENGTH, `The snapshot name must be at most ${MAX_SNAPSHOT_NAME_LENGTH} characters`)
  .refine(noControlChars, 'The snapshot name must not contain control characters')
  .refine((s) => s.trim() === s, 'The snapshot name must not start or end with a space');

export const snapshotDescriptionSchema = z
  .string()
  .max(4000, 'The description must be at most 4000 characters')
  .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), 'The description must not contain control characters');

export const takeSnapshotInputSchema = z
  .object({
    name: snapshotNameSchema,
    description: snapshotDescriptionSchema.optional(),
    /** A stopped machine with encrypted disks: its passphrase, which their new overlays are encrypted with (kept in no file). */
    passphrase: passphraseSchema.optional(),
  })
  .strict();
export type TakeSnapshotInput = z.input<typeof takeSnapshotInputSchema>;

/** Restoring or deleting a snapshot of a stopped machine with encrypted disks takes its passphrase (kept in no file). */
export const snapshotKeyInputSchema = z.strictObject({
  passphrase: passphraseSchema.optional(),
});
export type SnapshotKeyInput = z.input<typeof snapshotKeyInputSchema>;

/** A snapshot is named by its id or its name (names are unique per machine). */
export const snapshotRefSchema = z.string().min(1, 'A snapshot name or id is needed').max(256);

export type SnapshotKind = 'live' | 'disk';

export interface SnapshotNode {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  parentId: string | null;
  /** live: RAM + disks (restoring resumes the guest where it was); disk: disks and settings only. */
  kind: SnapshotKind;
  /** The machine's current state descends from this snapshot. */
  current: boolean;
  /** Taken by a schedule (and pruned by its retention rule); absent: the user's own. */
  scheduled?: boolean;
  children: SnapshotNode[];
}

export interface SnapshotTree {
  /** The snapshot the current state descends from, or null (no snapshot, or its parent was deleted). */
  currentId: string | null;
  roots: SnapshotNode[];
  /** The machine has a saved state (suspended to disk): its next start resumes from it. */
  savedState: boolean;
}

export interface RestoreOutcome {
  snapshot: { id: string; name: string };
  /** Restoring discards the changes made since that snapshot (VirtualBox says so too). */
  warnings: string[];
  /** The machine was running: it was powered off, restored and started again. */
  restarted: boolean;
}
