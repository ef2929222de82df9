import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { usePolling } from './use-polling';

/** Just enough of a page for usePolling: its visibility and the event that says it changed. */
function fakeDocument() {
  const listeners = new Set<() => void>();
  const doc = {
    visibilityState: 'visible' as 'visible' | 'hidden',
    addEventListener: (_: string, f: () => void) => listeners.add(f),
    removeEventListener: (_: string, f: () => void) => listeners.delete(f),
    set(state: 'visible' | 'hidden') {
      doc.visibilityState = state;
      listeners.forEach((f) => f());
    },
    listeners,
  };
  return doc;
}

describe('usePolling', () => {
  let doc: ReturnType<typeof fakeDocument>;
  beforeEach(() => {
    vi.useFakeTimers();
    doc = fakeDocument();
    vi.stubGlobal('document', doc);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('asks at once, then every interval while active and visible; never while hidden, inactive or gone', async () => {
    const task = vi.fn(() => Promise.resolve());
    const active = ref(true);
    const scope = effectScope();
    scope.run(() => usePolling(task, 1000, () => active.value));
    await vi.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(task).toHaveBeenCalledTimes(4);

    doc.set('hidden');
    await vi.advanceTimersByTimeAsync(5000);
    expect(task).toHaveBeenCalledTimes(4);
    doc.set('visible');
    await vi.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(5);

    active.value = false;
    await nextTick();
    await vi.advanceTimersByTimeAsync(5000);
    expect(task).toHaveBeenCalledTimes(5);
    active.value = true;
    await nextTick();
    await vi.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(6);

    scope.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(task).toHaveBeenCalledTimes(6);
    expect(doc.listeners.size).toBe(0);
  });

  it('never overlaps a slow call and goes on after a failed one', async () => {
    let calls = 0;
    const task = vi.fn(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 2500));
      if (calls === 1) throw new Error('host gone');
    });
    const scope = effectScope();
    const { refresh } = scope.run(() => usePolling(task, 1000))!;
    void refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(task).toHaveBeenCalledTimes(1);
    // The first takes 2.5 s, then 1 s of rest before the second.
    await vi.advanceTimersByTimeAsync(3000);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(task).toHaveBeenCalledTimes(2);
    scope.stop();
  });
});
