import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LogKind } from '../../src-main/api/contract';

/** Which dialogs are open: commands open them, components render them. */
export const useUiStore = defineStore('ui', () => {
  const wizardOpen = ref(false);
  const settingsUuid = ref<string | null>(null);
  const aboutOpen = ref(false);
  const log = ref<{ uuid: string; kind: LogKind } | null>(null);
  const tasksExpanded = ref(false);

  function showLog(uuid: string, kind: LogKind = 'qemu'): void {
    log.value = { uuid, kind };
  }

  return { wizardOpen, settingsUuid, aboutOpen, log, tasksExpanded, showLog };
});
