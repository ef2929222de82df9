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
  /** The tab of the details pane: the machine's details or its snapshots. */
  const detailsTab = ref<'details' | 'snapshots'>('details');
  const takeSnapshotUuid = ref<string | null>(null);
  /** Clone dialog: the source machine and, from the snapshot tree, the snapshot to clone. */
  const clone = ref<{ uuid: string; snapshot?: string } | null>(null);
  const moveUuid = ref<string | null>(null);
  const exportUuid = ref<string | null>(null);
  const v2pUuid = ref<string | null>(null);
  const importOpen = ref(false);
  const p2vOpen = ref(false);
  const mediaOpen = ref(false);

  function showLog(uuid: string, kind: LogKind = 'qemu'): void {
    log.value = { uuid, kind };
  }

  return {
    wizardOpen,
    settingsUuid,
    aboutOpen,
    log,
    tasksExpanded,
    detailsTab,
    takeSnapshotUuid,
    clone,
    moveUuid,
    exportUuid,
    v2pUuid,
    importOpen,
    p2vOpen,
    mediaOpen,
    showLog,
  };
});
