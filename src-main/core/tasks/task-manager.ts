/**
 * Long operations (disk creation and conversion, import, clone...) run as tasks: they report
 * progress, can be cancelled through an AbortSignal, and end as done, failed or cancelled.
 * A task body must undo what it half-made when it fails or is cancelled.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { VmdeskError, toErrorShape, type ErrorShape } from '../../api/errors.js';
import type { TaskInfo, TaskState } from '../../api/types.js';

export type { TaskInfo, TaskState } from '../../api/types.js';

export interface TaskContext {
  signal: AbortSignal;
  progress(fraction: number | null, message?: string): void;
  /** What a front end shows of the task while it runs beyond a bar (a migration's rounds); sent with the next progress. */
  detail(value: unknown): void;
}

interface TaskEvents {
  task: [TaskInfo];
}

const KEEP_FINISHED = 50;

export class TaskManager extends EventEmitter<TaskEvents> {
  private readonly tasks = new Map<string, { info: TaskInfo; controller: AbortController }>();

  run<T>(
    title: string,
    body: (ctx: TaskContext) => Promise<T>,
    /** What front ends see of the result (the task's `result` once done): small and serializable. */
    publicResult?: (value: T) => unknown,
  ): { task: TaskInfo; result: Promise<T> } {
    const controller = new AbortController();
    const info: TaskInfo = { id: randomUUID(), title, state: 'running', progress: null, message: '', startedAt: new Date().toISOString() };
    this.tasks.set(info.id, { info, controller });
    this.emit('task', { ...info });
    let lastEmit = 0;
    const ctx: TaskContext = {
      signal: controller.signal,
      detail: (value) => {
        info.detail = value;
      },
      progress: (fraction, message) => {
        info.progress = fraction === null ? null : Math.max(0, Math.min(1, fraction));
        if (message !== undefined) info.message = message;
        const now = Date.now();
        // Progress is rate-limited to ~10 events a second: enough for a smooth bar.
        if (now - lastEmit >= 100 || fraction === 1) {
          lastEmit = now;
          this.emit('task', { ...info });
        }
      },
    };
    const result = (async () => {
      try {
        const value = await body(ctx);
        if (controller.signal.aborted) throw new VmdeskError('CANCELLED', `${title}: cancelled`);
        if (publicResult) info.result = publicResult(value);
        this.finish(info, 'done');
        return value;
      } catch (err) {
        const shape = toErrorShape(err);
        const cancelled = controller.signal.aborted || shape.code === 'CANCELLED';
        this.finish(info, cancelled ? 'cancelled' : 'failed', cancelled ? { code: 'CANCELLED', message: `${title}: cancelled` } : shape);
        throw cancelled ? new VmdeskError('CANCELLED', `${title}: cancelled`) : err;
      }
    })();
    return { task: { ...info }, result };
  }

  private finish(info: TaskInfo, state: TaskState, error?: ErrorShape): void {
    info.state = state;
    info.endedAt = new Date().toISOString();
    if (state === 'done') info.progress = 1;
    if (error) info.error = error;
    this.emit('task', { ...info });
    const finished = [...this.tasks.values()].filter((t) => t.info.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.tasks.delete(old.info.id);
  }

  cancel(id: string): void {
    const task = this.tasks.get(id);
    if (!task) throw new VmdeskError('NOT_FOUND', `No task ${id}`);
    if (task.info.state === 'running') task.controller.abort();
  }

  list(): TaskInfo[] {
    return [...this.tasks.values()].map((t) => ({ ...t.info }));
  }
}
