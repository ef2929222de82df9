import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WakeableDelay } from './wakeable-delay.js';

describe('WakeableDelay', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const settled = async (p: Promise<void>): Promise<boolean> => {
    let done = false;
    void p.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    return done;
  };

  it('ends after its time when nothing wakes it', async () => {
    const delay = new WakeableDelay();
    const waiting = delay.wait(50);
    await vi.advanceTimersByTimeAsync(49);
    expect(await settled(waiting)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(waiting)).toBe(true);
  });

  it('ends at once when woken while it waits', async () => {
    const delay = new WakeableDelay();
    const waiting = delay.wait(10_000);
    delay.wake();
    expect(await settled(waiting)).toBe(true);
  });

  it('keeps a wake that came while nothing waited for the next wait only', async () => {
    const delay = new WakeableDelay();
    delay.wake();
    delay.wake();
    expect(await settled(delay.wait(10_000))).toBe(true);
    expect(await settled(delay.wait(10_000))).toBe(false);
  });
});
