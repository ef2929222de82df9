import { useMachinesStore } from '../stores/machines';
import { useTasksStore } from '../stores/tasks';

let asked: Promise<void> | null = null;

/**
 * The main window's first data (machines, hosts, tasks), asked for once per window. main.ts asks
 * before it builds the window, so that the core reads the library while the page mounts the window
 * rather than after it; MainView's own ask, when mounted, is then this same one.
 */
export function loadMainWindowData(): Promise<void> {
  asked ??= Promise.all([useMachinesStore().load(), useTasksStore().load()]).then(() => undefined);
  return asked;
}
