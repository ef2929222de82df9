import { getActivePinia, type Pinia } from 'pinia';
import { useMachinesStore } from '../stores/machines';
import { useTasksStore } from '../stores/tasks';

/** Per Pinia: one per window (on the server, one per window drawn). */
const asked = new WeakMap<Pinia, Promise<void>>();

function loadAll(pinia: Pinia): Promise<void> {
  return Promise.all([useMachinesStore(pinia).load(), useTasksStore(pinia).load()]).then(() => undefined);
}

function activePinia(): Pinia {
  const pinia = getActivePinia();
  if (!pinia) throw new Error('The main window has no Pinia');
  return pinia;
}

/**
 * The main window's first data (machines, hosts, tasks), asked for once per window. main.ts asks
 * before it builds the window, so that the core reads the library while the page mounts the window
 * rather than after it; MainView's own ask, when mounted, is then this same one. On the server, the
 * window's Pinia is given (there is no active one to take).
 */
export function loadMainWindowData(pinia: Pinia = activePinia()): Promise<void> {
  let promise = asked.get(pinia);
  if (!promise) {
    promise = loadAll(pinia);
    asked.set(pinia, promise);
  }
  return promise;
}

/**
 * A window that started from answers given in its page (drawn by the server) asks again once it is
 * connected: what changed between the server's drawing and the connection came as events nobody
 * heard. The stores' subscriptions are already made; this only reads again.
 */
export function catchUpMainWindowData(): Promise<void> {
  return loadAll(activePinia());
}
