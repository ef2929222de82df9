/**
 * Where a key moves the focus in a row or a column of items (a menu bar, a menu): the WAI-ARIA
 * authoring practices' keys, wrapping at both ends as desktop menus do.
 */
export type Axis = 'horizontal' | 'vertical';

const KEYS: Record<Axis, { back: string; forward: string }> = {
  horizontal: { back: 'ArrowLeft', forward: 'ArrowRight' },
  vertical: { back: 'ArrowUp', forward: 'ArrowDown' },
};

/** The index `key` moves to from `current` among `count` items, or null when the key does not move along this axis. */
export function rovingIndex(key: string, current: number, count: number, axis: Axis): number | null {
  if (count === 0) return null;
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  if (key === KEYS[axis].forward) return (current + 1) % count;
  if (key === KEYS[axis].back) return (current - 1 + count) % count;
  return null;
}
