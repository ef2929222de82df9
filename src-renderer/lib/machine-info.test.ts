import { describe, expect, it } from 'vitest';
import { stateLabel } from './machine-info';

describe('state labels', () => {
  it('says "Saved" for a stopped machine with a saved state only', () => {
    expect(stateLabel('stopped')).toBe('Powered off');
    expect(stateLabel('stopped', true)).toBe('Saved');
    expect(stateLabel('crashed', true)).toBe('Saved');
    expect(stateLabel('running', true)).toBe('Running');
  });
});
