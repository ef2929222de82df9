import { describe, expect, it } from 'vitest';
import { isReleaseKey } from './keyboard-release';

const press = (code: string, mods: { ctrl?: boolean; alt?: boolean; shift?: boolean; meta?: boolean } = {}) => ({
  code,
  ctrlKey: !!mods.ctrl,
  altKey: !!mods.alt,
  shiftKey: !!mods.shift,
  metaKey: !!mods.meta,
});

describe('isReleaseKey', () => {
  it('is Ctrl+Alt+G, by the physical key', () => {
    expect(isReleaseKey(press('KeyG', { ctrl: true, alt: true }))).toBe(true);
  });

  it('is not G alone, Ctrl+G, Alt+G, nor with Shift or Meta added (those go to the guest)', () => {
    expect(isReleaseKey(press('KeyG'))).toBe(false);
    expect(isReleaseKey(press('KeyG', { ctrl: true }))).toBe(false);
    expect(isReleaseKey(press('KeyG', { alt: true }))).toBe(false);
    expect(isReleaseKey(press('KeyG', { ctrl: true, alt: true, shift: true }))).toBe(false);
    expect(isReleaseKey(press('KeyG', { ctrl: true, alt: true, meta: true }))).toBe(false);
    expect(isReleaseKey(press('Delete', { ctrl: true, alt: true }))).toBe(false);
  });
});
