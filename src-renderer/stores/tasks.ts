import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { TaskInfo } from '../../src-main/api/types';
import { api, onApiEvent } from '../api/client';
import { reportError } from '../lib/report-error';

type Waiter = (task: TaskInfo) => void;

/** Long-running operations of the core, mirrored from `task` events (never polled). */
export const useTasksStore = defineStore('tasks', () => {
  const byId = ref(new Map<string, TaskInfo>());
  const waiters = new Map<string, Waiter[]>();
  let subscribed = false;

  const tasks = computed(() => [...byId.value.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt)));
  const running = computed(() => tasks.value.filter((t) => t.state === 'running'));

  function upsert(task: TaskInfo): void {
    byId.value.set(task.id, task);
    if (task.state === 'running') return;
    for (const w of waiters.get(task.id) ?? []) w(task);
    waiters.delete(task.id);
  }

  async function load(): Promise<void> {
    if (!subscribed) {
      subscribed = true;
      onApiEvent('task', upsert);
    }
    try {
      for (const t of await api.listTasks()) upsert(t);
    } catch (err) {
      await reportError('Cannot list tasks', err);
    }
  }

  /** Resolves with the task once it has ended (done, failed or cancelled). */
  function follow(task: TaskInfo): Promise<TaskInfo> {
    // An event may already have reported the end of the task before the call that started it returned.
    if (!byId.value.has(task.id)) upsert(task);
    const known = byId.value.get(task.id) ?? task;
    if (known.state !== 'running') return Promise.resolve(known);
    return new Promise((resolve) => {
      waiters.set(task.id, [...(waiters.get(task.id) ?? []), resolve]);
    });
  }

  async function cancel(id: string): Promise<void> {
    try {
      upsert(await api.cancelTask(id));
    } catch (err) {
      await reportError('Cannot cancel the task', err);
    }
  }

  function dismissFinished(): void {
    for (const [id, t] of byId.value) if (t.state !== 'running') byId.value.delete(id);
  }

  return { tasks, running, load, follow, cancel, dismissFinished };
});
