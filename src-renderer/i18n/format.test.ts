import { describe, expect, it } from 'vitest';
import { fixed, formatDateTime, formatTime, grouped, percent, plain } from './format';

describe('figures in the language’s way', () => {
  it('decimal point or comma, never thousands separators in sizes', () => {
    expect(fixed(1.5, 1, 'en-US')).toBe('1.5');
    expect(fixed(1.5, 1, 'de-DE')).toBe('1,5');
    expect(fixed(1536, 2, 'de-DE')).toBe('1536,00');
    expect(fixed(12345, 0, 'en-US')).toBe('12345');
    expect(percent(12.34, 1, 'de-DE')).toBe('12,3 %');
    expect(plain(0.25, 'de-DE')).toBe('0,25');
    expect(plain(64, 'de-DE')).toBe('64');
  });

  it('counts with the language’s thousands separators', () => {
    expect(grouped(12345, 'en-US')).toBe('12,345');
    expect(grouped(12345, 'de-DE')).toBe('12.345');
  });

  it('dates and times', () => {
    const at = new Date(2025, 11, 3, 16, 5, 0).toISOString();
    expect(formatDateTime(at, 'de-DE')).toBe('3.12.2025, 16:05:00');
    expect(formatDateTime(at, 'en-US')).toBe('12/3/2025, 4:05:00 PM');
    expect(formatTime(at, 'de-DE')).toBe('16:05:00');
    expect(formatDateTime('not a date', 'de-DE')).toBe('not a date');
  });
});
