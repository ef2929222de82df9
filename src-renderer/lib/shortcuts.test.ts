import { describe, expect, it } from 'vitest';
import { ariaShortcut, commandForKey, shortcutLabel, type KeyPress } from './shortcuts';

const press = (over: Partial<KeyPress>): KeyPress => ({
  key: 'n',
  code: 'KeyN',
  ctrlKey: true,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...over,
});

describe('the shortcuts of each face', () => {
  it('labels VirtualBox’s Ctrl+letter on the desktop and Ctrl+Alt+letter in a browser', () => {
    expect(shortcutLabel('machine.new', 'desktop')).toBe('Ctrl+N');
    expect(shortcutLabel('machine.settings', 'browser')).toBe('Ctrl+Alt+S');
    expect(shortcutLabel('machine.start', 'browser')).toBeUndefined();
    expect(ariaShortcut('Ctrl+Alt+N')).toBe('Control+Alt+N');
  });

  it('maps a key press to its command on its face only', () => {
    expect(commandForKey(press({}), 'desktop')).toBe('machine.new');
    expect(commandForKey(press({}), 'browser')).toBeNull();
    expect(commandForKey(press({ altKey: true }), 'browser')).toBe('machine.new');
    expect(commandForKey(press({ altKey: true }), 'desktop')).toBeNull();
    // With Alt held a layout may give another character: the physical key decides.
    expect(commandForKey(press({ altKey: true, key: 'ß', code: 'KeyS' }), 'browser')).toBe('machine.settings');
    expect(commandForKey(press({ altKey: true, shiftKey: true }), 'browser')).toBeNull();
    expect(commandForKey(press({ ctrlKey: false, altKey: true }), 'browser')).toBeNull();
    expect(commandForKey(press({ altKey: true, code: 'KeyX', key: 'x' }), 'browser')).toBeNull();
  });
});
