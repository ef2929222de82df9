import { describe, expect, it } from 'vitest';
import type { SnapshotNode, SnapshotTree } from '../../src-main/api/snapshots';
import {
  CURRENT_STATE_KEY,
  allSnapshots,
  defaultSnapshotName,
  findSnapshotNode,
  snapshotInputErrors,
  snapshotTreeItems,
} from './snapshot-tree';

function snap(id: string, children: SnapshotNode[] = [], over: Partial<SnapshotNode> = {}): SnapshotNode {
  return {
    id,
    name: `Snapshot ${id}`,
    description: '',
    createdAt: '2026-11-25T12:00:00Z',
    parentId: null,
    kind: 'disk',
    current: false,
    children,
    ...over,
  };
}

const tree = (currentId: string | null, roots: SnapshotNode[]): SnapshotTree => ({ currentId, roots, savedState: false });

describe('snapshot tree', () => {
  it('shows only "Current state" for a machine without snapshots', () => {
    expect(snapshotTreeItems(tree(null, []))).toEqual([{ key: CURRENT_STATE_KEY, label: 'Current state', snapshot: null, children: [] }]);
  });

  it('puts "Current state" last under the current snapshot, keeping other branches', () => {
    const t = tree('2', [snap('1', [snap('2', [snap('3')]), snap('4')])]);
    const items = snapshotTreeItems(t);
    expect(items).toHaveLength(1);
    const one = items[0]!;
    expect(one.children.map((c) => c.key)).toEqual(['2', '4']);
    expect(one.children[0]!.children.map((c) => c.key)).toEqual(['3', CURRENT_STATE_KEY]);
  });

  it('puts "Current state" at the root when its snapshot is gone', () => {
    expect(snapshotTreeItems(tree(null, [snap('1')])).map((i) => i.key)).toEqual(['1', CURRENT_STATE_KEY]);
  });

  it('finds snapshots and proposes a free name', () => {
    const t = tree('1', [snap('1', [snap('2')])]);
    expect(allSnapshots(t).map((s) => s.id)).toEqual(['1', '2']);
    expect(findSnapshotNode(t, '2')?.name).toBe('Snapshot 2');
    expect(findSnapshotNode(t, 'x')).toBeNull();
    expect(defaultSnapshotName(t)).toBe('Snapshot 3');
    expect(defaultSnapshotName(tree(null, []))).toBe('Snapshot 1');
  });

  it('validates the Take dialog with the core schema and refuses a name in use', () => {
    const t = tree('1', [snap('1')]);
    expect(snapshotInputErrors('Before upgrade', 'ok', t)).toEqual({});
    expect(snapshotInputErrors('', '', t).name).toMatch(/empty/);
    expect(snapshotInputErrors(' x', '', t).name).toMatch(/space/);
    expect(snapshotInputErrors('x'.repeat(65), '', t).name).toMatch(/64/);
    expect(snapshotInputErrors('Snapshot 1', '', t).name).toMatch(/already exists/);
    expect(snapshotInputErrors('a', 'bad\u0001', t).description).toMatch(/control/);
  });
});
