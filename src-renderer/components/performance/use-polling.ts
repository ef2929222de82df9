/**
 * Calls `task` every `intervalMs` while `active()` holds and the page is visible, one call at a
 * time (the next waits for the previous); stops for good when the calling component goes. The core's
 * sampler runs only while someone asks, so a hidden or closed view costs the host nothing.
 */
import { onScopeDispose, watch } from 'vue';

export function usePolling(
  task: () => Promise<void>,
  intervalMs: number,
  active: () => boolean = () => true,
): { refresh: () => Promise<void> } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | null = null;
  let disposed = false;
  const visible = (): boolean => typeof document === 'undefined' || document.visibilityState === 'visible';

  function schedule(): void {
    clearTimeout(timer);
    timer = undefined;
    if (disposed || !active() || !visible()) return;
    timer = setTimeout(() => void run(), intervalMs);
  }

  async function run(): Promise<void> {
    if (running) return running;
    running = task()
      .catch(() => undefined)
      .finally(() => {
        running = null;
        schedule();
      });
    return running;
  }

  const wake = (): void => {
    if (disposed) return;
    if (active() && visible()) void run();
    else schedule();
  };
  document.addEventListener('visibilitychange', wake);
  watch(active, wake, { immediate: true });
  onScopeDispose(() => {
    disposed = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', wake);
  });
  return { refresh: run };
}
