/**
 * The snapshot tree as the Snapshots tab shows it: the core's SnapshotTree with a "Current state"
 * node placed under the snapshot the current state descends from (as VirtualBox draws it).
 */
import type { ZodType } from 'zod';
import { snapshotDescriptionSchema, snapshotNameSchema, type SnapshotNode, type SnapshotTree } from '../../src-main/api/snapshots';
import { t, wordsOf } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';
import { formatDateTime } from '../i18n/format';

export const CURRENT_STATE_KEY = '@current';

export interface SnapshotTreeItem {
  key: string;
  label: string;
  /** null for the "Current state" node. */
  snapshot: SnapshotNode | null;
  children: SnapshotTreeItem[];
}

export function snapshotTreeItems(tree: SnapshotTree, currentLabel = t('snapshots.currentState')): SnapshotTreeItem[] {
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

/** "Snapshot 1", "Snapshot 2"… (German "Sicherungspunkt 1"…): the first free one, as VirtualBox proposes. */
export function defaultSnapshotName(tree: SnapshotTree | null): string {
  const names = new Set(tree ? allSnapshots(tree).map((s) => s.name) : []);
  for (let i = 1; ; i++) {
    const name = t('snapshots.defaultName', { number: i });
    if (!names.has(name)) return name;
  }
}

function firstIssue(schema: ZodType, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : localizeApiMessage(r.error.issues[0]?.message ?? t('errors.invalidValue'));
}

/** The Take dialog's checks, as the core makes them (same zod schema), plus uniqueness. */
export function snapshotInputErrors(name: string, description: string, tree: SnapshotTree | null): { name?: string; description?: string } {
  const errors: { name?: string; description?: string } = {};
  const nameIssue = firstIssue(snapshotNameSchema, name);
  if (nameIssue) errors.name = nameIssue;
  else if (tree && allSnapshots(tree).some((s) => s.name === name)) errors.name = t('snapshots.nameTaken', { name });
  const descIssue = firstIssue(snapshotDescriptionSchema, description);
  if (descIssue) errors.description = descIssue;
  return errors;
}

export const SNAPSHOT_KIND_LABELS = wordsOf<SnapshotNode['kind']>({ live: 'snapshots.kind.live', disk: 'snapshots.kind.disk' });
export const SNAPSHOT_KIND_HINTS = wordsOf<SnapshotNode['kind']>({ live: 'snapshots.kindHint.live', disk: 'snapshots.kindHint.disk' });

/** A snapshot's (or a scheduled run's) time, in the current language's way. */
export function formatDate(iso: string): string {
  return formatDateTime(iso);
}
