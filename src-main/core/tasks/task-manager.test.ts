import { describe, expect, it } from 'vitest';
import { TaskManager, type TaskInfo } from './task-manager.js';

describe('TaskManager', () => {
  it('reports progress and completion', async () => {
    const tm = new TaskManager();
    const seen: TaskInfo[] = [];
    tm.on('task', (t) => seen.push(t));
    const { task, result } = tm.run('Copy', async (ctx) => {
      ctx.progress(0.5, 'half');
      await Promise.resolve();
      ctx.progress(1, 'all');
      return 7;
    });
    expect(await result).toBe(7);
    expect(seen.map((t) => t.state)).toContain('running');
    expect(seen.at(-1)).toMatchObject({ id: task.id, state: 'done', progress: 1, message: 'all' });
  });

  it('cancels through the AbortSignal and reports cancelled', async () => {
    const tm = new TaskManager();
    let cleanedUp = false;
    const { task, result } = tm.run(
      'Convert',
      (ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            cleanedUp = true;
            reject(new Error('aborted'));
          });
        }),
    );
    tm.cancel(task.id);
    await expect(result).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(cleanedUp).toBe(true);
    expect(tm.list()[0]).toMatchObject({ state: 'cancelled', error: { code: 'CANCELLED' } });
  });

  it('a failing body gives a failed task with its error', async () => {
    const tm = new TaskManager();
    const { result } = tm.run('Import', () => Promise.reject(new Error('disk full')));
    await expect(result).rejects.toThrow('disk full');
    expect(tm.list()[0]).toMatchObject({ state: 'failed', error: { code: 'INTERNAL', message: 'disk full' } });
    expect(() => tm.cancel('nope')).toThrow(/No task/);
  });
});
