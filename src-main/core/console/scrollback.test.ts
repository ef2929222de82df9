import { describe, expect, it } from 'vitest';
import { Scrollback } from './scrollback.js';

describe('Scrollback', () => {
  it('keeps the most recent bytes up to its limit', () => {
    const sb = new Scrollback(10);
    sb.push(Buffer.from('hello '));
    sb.push(Buffer.from('world!'));
    expect(sb.contents().toString()).toBe('llo world!');
    expect(sb.length).toBe(10);
    sb.push(Buffer.from('0123456789AB'));
    expect(sb.contents().toString()).toBe('23456789AB');
  });
});
