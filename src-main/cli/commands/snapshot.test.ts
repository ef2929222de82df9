import { describe, expect, it } from 'vitest';
import type { SnapshotNode } from '../../api/snapshots.js';
import { formatSnapshotTree } from './snapshot.js';

function node(name: string, children: SnapshotNode[] = [], current = false): SnapshotNode {
  return { id: name, name, description: '', createdAt: '2026-11-25T12:00:00.000Z', parentId: null, kind: 'live', current, children };
}

describe('formatSnapshotTree', () => {
  it('draws the tree with the current state under its snapshot', () => {
    const text = formatSnapshotTree('m', { currentId: 'b', savedState: true, roots: [node('a', [node('b', [], true), node('c')])] });
    expect(text).toBe(
      [
        'Snapshots of m:',
        '└── a  [live]  2026-11-25 12:00:00',
        '    ├── b  [live]  2026-11-25 12:00:00',
        '    │   └── ▶ current state (saved)',
        '    └── c  [live]  2026-11-25 12:00:00',
        '',
      ].join('\n'),
    );
  });

  it('says when there are no snapshots', () => {
    expect(formatSnapshotTree('m', { currentId: null, savedState: false, roots: [] })).toBe('m has no snapshots\n');
  });
});
