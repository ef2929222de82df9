import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LogKind } from '../../src-main/api/contract';
import type { MigrateOptions } from '../../src-main/api/migration';
import type { MachineRef } from '../lib/hosts';

/** Which dialogs are open: commands open them, components render them. Machines are named by host and uuid. */
export const useUiStore = defineStore('ui', () => {
  /** The New machine wizard: open, and the host it proposes first. */
  const wizardOpen = ref(false);
  const wizardHost = ref<string | null>(null);
  const settings = ref<MachineRef | null>(null);
  const aboutOpen = ref(false);
  /** File › Preferences… (the language). */
  const preferencesOpen = ref(false);
  const log = ref<(MachineRef & { kind: LogKind }) | null>(null);
  const tasksExpanded = ref(false);
  /** The tab of the details pane: the machine's details, its snapshots or its performance graphs. */
  const detailsTab = ref<'details' | 'snapshots' | 'performance'>('details');
  const takeSnapshot = ref<MachineRef | null>(null);
  /** Clone dialog: the source machine and, from the snapshot tree, the snapshot to clone. */
  const clone = ref<(MachineRef & { snapshot?: string }) | null>(null);
  const move = ref<MachineRef | null>(null);
  const exportTarget = ref<MachineRef | null>(null);
  const v2p = ref<MachineRef | null>(null);
  /** Machine › Back up…: the machine whose backups the dialog shows. */
  const backup = ref<MachineRef | null>(null);
  /** Import, P2V and the media manager: open on this host (null: closed). */
  const importHost = ref<string | null>(null);
  const p2vHost = ref<string | null>(null);
  const mediaHost = ref<string | null>(null);
  const addHostOpen = ref(false);
  /** Machine › Migrate…: the running machine whose migration is being set up (null: the form is closed). */
  const migrate = ref<MachineRef | null>(null);
  /** The pre-copy view of a migration task, by the host it runs on (the source's) and its id. */
  const migration = ref<{ host: string; id: string } | null>(null);
  /** The options each migration of this window was started with, by host/task id (the view draws the limits). */
  const migrationOptions = ref(new Map<string, MigrateOptions>());

  function showLog(r: MachineRef, kind: LogKind = 'qemu'): void {
    log.value = { host: r.host, uuid: r.uuid, kind };
  }

  return {
    wizardOpen,
    wizardHost,
    settings,
    aboutOpen,
    preferencesOpen,
    log,
    tasksExpanded,
    detailsTab,
    takeSnapshot,
    clone,
    move,
    exportTarget,
    v2p,
    backup,
    importHost,
    p2vHost,
    mediaHost,
    addHostOpen,
    migrate,
    migration,
    migrationOptions,
    showLog,
  };
});
