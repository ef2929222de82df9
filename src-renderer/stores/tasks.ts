import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { TaskInfo } from '../../src-main/api/types';
import { apiFor, onApiEvent } from '../api/client';
import { LOCAL_HOST } from '../lib/hosts';
import { reportError } from '../lib/report-error';
import { t } from '../i18n';
import { useHostsStore } from './hosts';

/** A task with the host it runs on ("local": this computer). */
export type HostedTask = TaskInfo & { host: string };

type Waiter = (task: HostedTask) => void;

const keyOf = (host: string, id: string): string => `${host}/${id}`;

/**
 * Long-running operations of every host's core, mirrored from `task` events (never polled). Task ids
 * are per host: a task is known by its host and id.
 */
export const useTasksStore = defineStore('tasks', () => {
  const hosts = useHostsStore();
  const byKey = ref(new Map<string, HostedTask>());
  const waiters = new Map<string, Waiter[]>();
  let subscribed = false;

  const tasks = computed(() => [...byKey.value.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt)));
  const running = computed(() => tasks.value.filter((t) => t.state === 'running'));

  function upsert(task: TaskInfo, host: string): HostedTask {
    const hosted: HostedTask = { ...task, host };
    const key = keyOf(host, task.id);
    byKey.value.set(key, hosted);
    if (task.state !== 'running') {
      for (const w of waiters.get(key) ?? []) w(hosted);
      waiters.delete(key);
    }
    return hosted;
  }

  function get(host: string, id: string): HostedTask | null {
    return byKey.value.get(keyOf(host, id)) ?? null;
  }

  /** Reads one host's tasks (none given: this computer's). */
  async function loadHost(host: string): Promise<void> {
    try {
      for (const t of await apiFor(host).listTasks()) upsert(t, host);
    } catch (err) {
      // A remote host that cannot be reached says so in its own state.
      if (host === LOCAL_HOST) await reportError(t('errors.listTasks'), err);
    }
  }

  async function load(): Promise<void> {
    if (!subscribed) {
      subscribed = true;
      onApiEvent('task', upsert);
      hosts.onHostUp((h) => void loadHost(h));
      hosts.onHostGone((h) => {
        for (const [key, t] of byKey.value) if (t.host === h && t.state !== 'running') byKey.value.delete(key);
      });
    }
    const up = hosts.remotes.filter((h) => hosts.reachable(h.name)).map((h) => h.name);
    await Promise.all([LOCAL_HOST, ...up].map(loadHost));
  }

  /** Resolves with the task once it has ended (done, failed or cancelled). */
  function follow(task: TaskInfo, host: string = LOCAL_HOST): Promise<HostedTask> {
    const key = keyOf(host, task.id);
    // An event may already have reported the end of the task before the call that started it returned.
    const known = byKey.value.get(key) ?? upsert(task, host);
    if (known.state !== 'running') return Promise.resolve(known);
    return new Promise((resolve) => {
      waiters.set(key, [...(waiters.get(key) ?? []), resolve]);
    });
  }

  async function cancel(host: string, id: string): Promise<void> {
    try {
      upsert(await apiFor(host).cancelTask(id), host);
    } catch (err) {
      await reportError(t('errors.cancelTask'), err);
    }
  }

  function dismissFinished(): void {
    for (const [key, t] of byKey.value) if (t.state !== 'running') byKey.value.delete(key);
  }

  return { tasks, running, get, load, loadHost, follow, cancel, dismissFinished };
});
