import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ElMessageBox } from 'element-plus';
import type { SnapshotNode, SnapshotTree } from '../../src-main/api/snapshots';
import { apiFor, onApiEvent } from '../api/client';
import { sameMachine, type MachineRef } from '../lib/hosts';
import { describeError } from '../lib/report-error';
import { startTaskAsking } from '../lib/passphrase-prompt';
import { runInBackground } from '../lib/run-task';
import { useMachinesStore } from './machines';
import { t } from '../i18n';

/**
 * The snapshot tree of the machine shown in the Snapshots tab, re-read on `machines` events (the
 * core sends one after every snapshot change), never polled.
 */
export const useSnapshotsStore = defineStore('snapshots', () => {
  /** The machine shown, on its host. */
  const target = ref<MachineRef | null>(null);
  const tree = ref<SnapshotTree | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** The snapshot to restore, when the Restore dialog is open. */
  const restoring = ref<SnapshotNode | null>(null);
  let subscribed = false;
  let generation = 0;

  async function refresh(): Promise<void> {
    const want = target.value;
    const mine = ++generation;
    if (!want) {
      tree.value = null;
      return;
    }
    loading.value = tree.value === null;
    try {
      const listed = await apiFor(want.host).listSnapshots(want.uuid);
      if (mine !== generation) return;
      tree.value = listed;
      error.value = null;
    } catch (err) {
      if (mine !== generation) return;
      const e = describeError(err);
      error.value = t('snapshots.readError', { message: e.message, code: e.code });
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  /** Shows this machine's snapshots (null: none). */
  function show(machine: MachineRef | null): void {
    if (!subscribed) {
      subscribed = true;
      onApiEvent('machines', (_data, host) => {
        if (target.value?.host === host) void refresh();
      });
    }
    if (machine === target.value || sameMachine(machine, target.value)) return;
    target.value = machine ? { host: machine.host, uuid: machine.uuid } : null;
    tree.value = null;
    error.value = null;
    void refresh();
  }

  async function remove(machine: MachineRef, snap: SnapshotNode): Promise<void> {
    const name = useMachinesStore().displayName(machine);
    const ok = await ElMessageBox.confirm(t('snapshots.delete.confirm', { snapshot: snap.name, name }), t('snapshots.delete.title'), {
      type: 'warning',
      confirmButtonText: t('common.delete'),
      cancelButtonText: t('common.cancel'),
    }).then(
      () => true,
      () => false,
    );
    if (!ok) return;
    await runInBackground(
      t('snapshots.delete.task', { snapshot: snap.name }),
      () =>
        startTaskAsking(name, (passphrase) =>
          apiFor(machine.host).deleteSnapshot(machine.uuid, snap.id, passphrase === undefined ? {} : { passphrase }),
        ),
      () => t('snapshots.delete.done', { snapshot: snap.name }),
      machine.host,
    );
  }

  return { target, tree, loading, error, restoring, refresh, show, remove };
});
