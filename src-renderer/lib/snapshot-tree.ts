/**
 * The snapshot tree as the Snapshots tab shows it: the core's SnapshotTree with a "Current state"
 * node placed under the snapshot the current state descends from (as VirtualBox draws it).
 */
import type { ZodType } from 'zod';
import { snapshotDescriptionSchema, snapshotNameSchema, type SnapshotNode, type SnapshotTree } from '../../src-main/api/snapshots';

export const CURRENT_STATE_KEY = '@current';

export interface SnapshotTreeItem {
  key: string;
  label: string;
  /** null for the "Current state" node. */
  snapshot: SnapshotNode | null;
  children: SnapshotTreeItem[];
}

export function snapshotTreeItems(tree: SnapshotTree, currentLabel = 'Current state'): SnapshotTreeItem[] {
  const current: SnapshotTreeItem = { key: CURRENT_STATE_KEY, label: currentLabel, snapshot: null, children: [] };
  let placed = false;
  const convert = (n: SnapshotNode): SnapshotTreeItem => {
    const children = n.children.map(convert);
    if (n.id === tree.currentId) {
      children.push(current);
      placed = true;
    }
    return { key: n.id, label: n.name, snapshot: n, children };
  };
  const roots = tree.roots.map(convert);
  return placed ? roots : [...roots, current];
}

/** Every snapshot of the tree, depth first. */
export function allSnapshots(tree: SnapshotTree): SnapshotNode[] {
  const out: SnapshotNode[] = [];
  const walk = (n: SnapshotNode): void => {
    out.push(n);
    n.children.forEach(walk);
  };
  tree.roots.forEach(walk);
  return out;
}

export function findSnapshotNode(tree: SnapshotTree, id: string): SnapshotNode | null {
  return allSnapshots(tree).find((s) => s.id === id) ?? null;
}

/** "Snapshot 1", "Snapshot 2"…: the first free one, as VirtualBox proposes. */
export function defaultSnapshotName(tree: SnapshotTree): string {
  const names = new Set(allSnapshots(tree).map((s) => s.name));
  for (let i = 1; ; i++) if (!names.has(`Snapshot ${i}`)) return `Snapshot ${i}`;
}

function firstIssue(schema: ZodType, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : (r.error.issues[0]?.message ?? 'Invalid value');
}

/** The Take dialog's checks, as the core makes them (same zod schema), plus uniqueness. */
export function snapshotInputErrors(name: string, description: string, tree: SnapshotTree | null): { name?: string; description?: string } {
  const errors: { name?: string; description?: string } = {};
  const nameIssue = firstIssue(snapshotNameSchema, name);
  if (nameIssue) errors.name = nameIssue;
  else if (tree && allSnapshots(tree).some((s) => s.name === name)) errors.name = `A snapshot named "${name}" already exists`;
  const descIssue = firstIssue(snapshotDescriptionSchema, description);
  if (descIssue) errors.description = descIssue;
  return errors;
}

export const SNAPSHOT_KIND_LABELS = { live: 'Live', disk: 'Disk' } as const;
export const SNAPSHOT_KIND_HINTS = {
  live: 'Memory and disks: restoring resumes the guest where it was',
  disk: 'Disks and settings: restoring starts from a powered-off machine',
} as const;

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
