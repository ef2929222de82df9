import { describe, expect, it } from 'vitest';
import { rovingIndex } from './roving-focus';

describe('rovingIndex', () => {
  it('moves along its own axis and wraps at both ends', () => {
    expect(rovingIndex('ArrowRight', 0, 5, 'horizontal')).toBe(1);
    expect(rovingIndex('ArrowRight', 4, 5, 'horizontal')).toBe(0);
    expect(rovingIndex('ArrowLeft', 0, 5, 'horizontal')).toBe(4);
    expect(rovingIndex('ArrowDown', 2, 3, 'vertical')).toBe(0);
    expect(rovingIndex('ArrowUp', 0, 3, 'vertical')).toBe(2);
  });

  it('Home and End go to the ends on either axis', () => {
    expect(rovingIndex('Home', 3, 5, 'vertical')).toBe(0);
    expect(rovingIndex('End', 1, 5, 'horizontal')).toBe(4);
  });

  it('other keys, the other axis and an empty row do not move', () => {
    expect(rovingIndex('ArrowDown', 1, 5, 'horizontal')).toBeNull();
    expect(rovingIndex('ArrowLeft', 1, 5, 'vertical')).toBeNull();
    expect(rovingIndex('Enter', 1, 5, 'vertical')).toBeNull();
    expect(rovingIndex('Home', 0, 0, 'vertical')).toBeNull();
  });
});
