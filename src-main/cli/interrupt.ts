/**
 * Ctrl-C (SIGINT) or SIGTERM during a long operation cancels its task, which removes what it
 * half-made; the command then ends with the CANCELLED exit code (11) and its one-line message. A
 * second signal, or one while no task runs, ends the command at once, as the signal would have.
 */
import os from 'node:os';
import type { Core } from '../core/core.js';

export function cancelTasksOnSignal(core: Core): () => void {
  let cancelling = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    const running = core.tasks.list().filter((t) => t.state === 'running');
    if (cancelling || running.length === 0) process.exit(128 + (os.constants.signals[signal] ?? 0));
    cancelling = true;
    for (const t of running) core.tasks.cancel(t.id);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
