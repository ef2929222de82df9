import { onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue';
import { apiFor } from '../api/client';
import type { MachineRef } from './hosts';

const INTERVAL_MS = 2000;

/**
 * A data: URL of the guest's screen (asked of the machine's host), refreshed every ~2 s while `active` is true and the page is
 * visible; nothing is fetched otherwise.
 */
export function useScreenPreview(
  machine: Ref<MachineRef | null>,
  active: Ref<boolean>,
): { src: Ref<string | null>; error: Ref<string | null> } {
  const src = ref<string | null>(null);
  const error = ref<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  const visible = (): boolean => document.visibilityState === 'visible';

  async function tick(gen: number): Promise<void> {
    const target = machine.value;
    if (gen !== generation || !target || !active.value || !visible()) return;
    try {
      const { png } = await apiFor(target.host).screenshot(target.uuid);
      if (gen !== generation) return;
      src.value = `data:image/png;base64,${png}`;
      error.value = null;
    } catch (err) {
      if (gen === generation) error.value = err instanceof Error ? err.message : String(err);
    }
    if (gen === generation) timer = setTimeout(() => void tick(gen), INTERVAL_MS);
  }

  function restart(): void {
    generation++;
    clearTimeout(timer);
    if (!active.value) src.value = null;
    void tick(generation);
  }

  watch([() => machine.value?.host, () => machine.value?.uuid, active], restart);
  const onVisibility = (): void => restart();
  onMounted(() => {
    document.addEventListener('visibilitychange', onVisibility);
    restart();
  });
  onBeforeUnmount(() => {
    generation++;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  });
  return { src, error };
}
