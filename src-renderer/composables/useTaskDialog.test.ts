import { nextTick, ref } from 'vue';
import { describe, expect, it, vi } from 'vitest';
import type { TaskInfo } from '../../src-main/api/types';

// The runner without the tasks store: each run resolves to what the test hands it.
const outcomes: unknown[] = [];
const resets = vi.fn();
vi.mock('../lib/run-task', () => ({
  useTaskRunner: () => {
    const busy = ref(false);
    return {
      busy,
      error: ref(null),
      task: ref(null),
      run: async () => {
        busy.value = true;
        await Promise.resolve();
        busy.value = false;
        return outcomes.shift() ?? null;
      },
      cancel: vi.fn(),
      reset: resets,
    };
  },
}));

const { useTaskDialog } = await import('./useTaskDialog');
const start = (): Promise<TaskInfo> => Promise.reject(new Error('not called by the fake runner'));

function setup() {
  const subject = ref<string | null>(null);
  const opened: string[] = [];
  const dialog = useTaskDialog({ subject: () => subject.value, close: () => (subject.value = null), onOpen: (s) => opened.push(s) });
  return { subject, opened, dialog };
}

describe('useTaskDialog', () => {
  it('is open while its subject is set, and resets and fills the form when it opens', async () => {
    const { subject, opened, dialog } = setup();
    expect(dialog.open.value).toBe(false);
    resets.mockClear();
    subject.value = 'vm-1';
    await nextTick();
    expect(dialog.open.value).toBe(true);
    expect(resets).toHaveBeenCalledOnce();
    expect(opened).toEqual(['vm-1']);
    dialog.close();
    expect(subject.value).toBeNull();
  });

  it('closes when the task succeeds, stays open with the error when it fails', async () => {
    const { subject, dialog } = setup();
    subject.value = 'vm-1';
    outcomes.push(null);
    expect(await dialog.submit(start)).toBeNull();
    expect(dialog.open.value).toBe(true);
    outcomes.push({ name: 'done' });
    expect(await dialog.submit(start)).toEqual({ name: 'done' });
    expect(dialog.open.value).toBe(false);
  });

  it('does not close while its task runs, and run() leaves it open', async () => {
    const { subject, dialog } = setup();
    subject.value = 'vm-1';
    outcomes.push({ step: 1 });
    const running = dialog.run(start);
    expect(dialog.runner.busy.value).toBe(true);
    dialog.open.value = false;
    expect(subject.value).toBe('vm-1');
    expect(await running).toEqual({ step: 1 });
    expect(dialog.open.value).toBe(true);
  });
});
