/**
 * The shape every dialog that runs a core task shares: it is open while its subject (a machine, a
 * snapshot…) is set in a store, it resets when opened, it cannot be closed while its task runs (the
 * footer offers *Cancel task* instead), the task's progress and error are shown in it
 * (TaskProgress.vue), and it closes once the task succeeds.
 */
import { computed, type WritableComputedRef } from 'vue';
import type { TaskInfo } from '../../src-main/api/types';
import { useTaskRunner, type TaskRunner } from '../lib/run-task';
import { hostOf } from '../lib/hosts';
import { watchOpen } from './lazy-dialogs';

export interface TaskDialogOptions<S> {
  /** What the dialog is about; null when it is closed. */
  subject: () => S | null;
  /** Clears the subject (the dialog closes). */
  close: () => void;
  /** Fills the form when the dialog opens (the last run's error is already cleared). */
  onOpen?: (subject: S) => void;
  /** The host the dialog's tasks run on (the subject machine's); this computer when absent. */
  host?: () => string | null | undefined;
}

export interface TaskDialog {
  runner: TaskRunner;
  /** The dialog's v-model: setting it false while a task runs does nothing. */
  open: WritableComputedRef<boolean>;
  /** Closes the dialog, unless its task runs. */
  close(): void;
  /** Runs one task, the dialog staying open: its result, or null (the error is shown in the dialog). */
  run<R>(start: () => Promise<TaskInfo>): Promise<R | null>;
  /** Runs the dialog's last task and closes the dialog when it succeeds. */
  submit<R>(start: () => Promise<TaskInfo>): Promise<R | null>;
}

export function useTaskDialog<S>(options: TaskDialogOptions<S>): TaskDialog {
  const runner = useTaskRunner(() => hostOf(options.host?.()));
  const open = computed({
    get: () => options.subject() !== null,
    set: (v: boolean) => {
      if (!v && !runner.busy.value) options.close();
    },
  });
  watchOpen(options.subject, (s) => {
    if (s === null) return;
    runner.reset();
    options.onOpen?.(s);
  });
  return {
    runner,
    open,
    close: () => (open.value = false),
    run: (start) => runner.run(start),
    async submit<R>(start: () => Promise<TaskInfo>): Promise<R | null> {
      const result = await runner.run<R>(start);
      if (result) options.close();
      return result;
    },
  };
}
