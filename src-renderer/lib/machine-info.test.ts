import { describe, expect, it } from 'vitest';
import { MACHINE_STATES } from '../../src-main/api/machine-config';
import { STATE_LABELS, stateLabel, stateSentence } from './machine-info';

describe('state labels', () => {
  it('says "Saved" for a stopped machine with a saved state only', () => {
    expect(stateLabel('stopped')).toBe('Powered off');
    expect(stateLabel('stopped', true)).toBe('Saved');
    expect(stateLabel('crashed', true)).toBe('Saved');
    expect(stateLabel('running', true)).toBe('Running');
  });

  it("uses VirtualBox's words for every state, never the API's ids", () => {
    expect(MACHINE_STATES.map((s) => stateLabel(s))).toEqual(['Powered off', 'Starting…', 'Running', 'Paused', 'Stopping…', 'Aborted']);
    for (const s of MACHINE_STATES) {
      expect(STATE_LABELS[s]).not.toBe(s);
      expect(STATE_LABELS[s]).toMatch(/^[A-Z]/);
    }
  });

  it('puts the same word inside a sentence', () => {
    expect(stateSentence('web', 'stopped')).toBe('web is powered off');
    expect(stateSentence('web', 'crashed')).toBe('web is aborted');
    expect(stateSentence('web', 'stopped', true)).toBe('web is saved');
    expect(stateSentence('web', 'starting')).toBe('web is starting…');
  });
});
