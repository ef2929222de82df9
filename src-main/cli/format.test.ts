import { describe, expect, it } from 'vitest';
import { printable } from './format.js';

describe('printable', () => {
  it('shows control characters and bidi overrides escaped, keeps line breaks and tabs', () => {
    expect(printable('No machine named "\u001b[2J\rx\u202eevil"')).toBe('No machine named "\\u001b[2J\\u000dx\\u202eevil"');
    expect(printable('Invalid input:\nname:\tbad')).toBe('Invalid input:\nname:\tbad');
    expect(printable('C1 \u009b31m')).toBe('C1 \\u009b31m');
  });

  it('cuts each line, not the message, counting characters rather than UTF-16 units', () => {
    expect(printable(`${'x'.repeat(500)}\nshort`, 400)).toBe(`${'x'.repeat(400)}…\nshort`);
    expect(printable('😀'.repeat(3), 2)).toBe('😀😀…');
    expect(printable('日本語', 3)).toBe('日本語');
  });
});
