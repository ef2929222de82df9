/**
 * Long operations are core tasks: these helpers start one, follow it in the tasks store (the task
 * panel shows its progress and a Cancel button) and say how it ended.
 */
import { computed, ref, type ComputedRef, type Ref } from 'vue';
import { ElMessage, ElMessageBox } from 'element-plus';
import type { TaskInfo } from '../../src-main/api/types';
import { t } from '../i18n';
import { useTasksStore } from '../stores/tasks';
import { LOCAL_HOST } from './hosts';
import { describeError, withCode } from './report-error';

/** How a task failed: its code, message and details (e.g. the backing chain to confirm). */
export interface TaskFailure {
  code: string;
  message: string;
  details?: unknown;
}

export type TaskOutcome<R> = { ok: true; result: R } | { ok: false; cancelled: boolean; error: string; failure: TaskFailure | null };

/** What went wrong, with its code, from a thrown error or an ended task. */
export function taskError(ended: TaskInfo): string {
  if (ended.error) return withCode(ended.error);
  if (ended.state === 'cancelled') return t('errors.taskCancelled');
  return ended.state === 'failed' ? t('errors.taskFailed') : t('errors.taskEnded', { state: ended.state });
}

/** Starts a task on `host` (the one `start` calls) and follows it to its end. */
export async function followTask<R>(
  start: () => Promise<TaskInfo>,
  onStarted?: (task: TaskInfo) => void,
  host: string = LOCAL_HOST,
): Promise<TaskOutcome<R>> {
  const tasks = useTasksStore();
  try {
    const started = await start();
    onStarted?.(started);
    const ended = await tasks.follow(started, host);
    if (ended.state === 'done') return { ok: true, result: ended.result as R };
    return { ok: false, cancelled: ended.state === 'cancelled', error: taskError(ended), failure: ended.error ?? null };
  } catch (err) {
    const e = describeError(err);
    return { ok: false, cancelled: false, error: withCode(e), failure: e };
  }
}

/**
 * For a task started without a dialog (restore, delete, save state): success is a toast; a failure is
 * a box that says what went wrong (the core's message says what to do). `what` is in the current
 * language ("Delete snapshot “a”").
 */
export async function runInBackground<R>(
  what: string,
  start: () => Promise<TaskInfo>,
  done?: (result: R) => string,
  host: string = LOCAL_HOST,
): Promise<boolean> {
  const outcome = await followTask<R>(start, undefined, host);
  if (outcome.ok) {
    ElMessage({ type: 'success', message: done ? done(outcome.result) : t('errors.taskDone', { what }) });
    return true;
  }
  if (outcome.cancelled) ElMessage({ type: 'warning', message: t('errors.taskWasCancelled', { what }) });
  else
    await ElMessageBox.alert(outcome.error, t('errors.taskWhatFailed', { what }), {
      type: 'error',
      confirmButtonText: t('common.ok'),
    }).catch(() => undefined);
  return false;
}

export interface TaskRunner {
  busy: Ref<boolean>;
  error: Ref<string | null>;
  /** The last failure as the core reported it (null after a success or a reset). */
  failure: Ref<TaskFailure | null>;
  task: ComputedRef<TaskInfo | null>;
  run<R>(start: () => Promise<TaskInfo>): Promise<R | null>;
  cancel(): void;
  reset(): void;
}

/**
 * A dialog's task: its progress shown in the dialog, Cancel cancelling it, its error kept to show.
 * `host` says which host the dialog's tasks run on (read when each starts).
 */
export function useTaskRunner(host: () => string = () => LOCAL_HOST): TaskRunner {
  const tasks = useTasksStore();
  const busy = ref(false);
  const error = ref<string | null>(null);
  const failure = ref<TaskFailure | null>(null);
  const taskId = ref<string | null>(null);
  const taskHost = ref<string>(LOCAL_HOST);
  const task = computed(() => (taskId.value ? tasks.get(taskHost.value, taskId.value) : null));
  return {
    busy,
    error,
    failure,
    task,
    async run<R>(start: () => Promise<TaskInfo>): Promise<R | null> {
      if (busy.value) return null;
      busy.value = true;
      error.value = null;
      failure.value = null;
      taskHost.value = host();
      try {
        const outcome = await followTask<R>(start, (t) => (taskId.value = t.id), taskHost.value);
        if (outcome.ok) return outcome.result;
        error.value = outcome.error;
        failure.value = outcome.failure;
        return null;
      } finally {
        busy.value = false;
        taskId.value = null;
      }
    },
    cancel() {
      if (taskId.value) void tasks.cancel(taskHost.value, taskId.value);
    },
    reset() {
      error.value = null;
      failure.value = null;
    },
  };
}
