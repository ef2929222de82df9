import { computed, inject, provide, reactive, ref, type ComputedRef, type InjectionKey, type Ref } from 'vue';
import type { HostCapabilities, MachineDetails } from '../../../src-main/api/types';
import type { VmdeskApi } from '../../../src-main/api/contract';
import { apiFor } from '../../api/client';
import { t } from '../../i18n';
import { LOCAL_HOST } from '../../lib/hosts';
import { isActive } from '../../lib/machine-info';
import {
  LOCKED_WHILE_RUNNING,
  settingsChanges,
  settingsErrors,
  settingsFormFrom,
  type SettingsErrors,
  type SettingsField,
  type SettingsForm,
} from '../../lib/settings-input';
import type { ModifyMachineInput } from '../../../src-main/api/operations';
import { useMachinesStore } from '../../stores/machines';
import type { SetNicInput } from '../../../src-main/api/network';
import { SLOTS, macOwners, nicChanges, nicDraftErrors, nicDraftsFrom, type NicDraft, type NicErrors } from '../../lib/network-input';

/** The Settings dialog's state, shared by its tabs. */
export interface SettingsContext {
  form: SettingsForm;
  details: Ref<MachineDetails | null>;
  /** The host the machine is on ("local": this computer). */
  hostName: Ref<string>;
  /** That host's API: every call of the dialog goes there. */
  api: ComputedRef<VmdeskApi>;
  /** That host's capabilities. */
  host: ComputedRef<HostCapabilities | null>;
  errors: ComputedRef<SettingsErrors>;
  changes: ComputedRef<ModifyMachineInput>;
  /** One draft per adapter slot (Network tab); Save sends what differs through setNic. */
  nics: NicDraft[];
  nicErrors: ComputedRef<NicErrors[]>;
  nicChanges: ComputedRef<{ slot: number; input: SetNicInput }[]>;
  /** MACs of the other machines of the host's library → the machine using each. */
  otherMacs: ComputedRef<Map<string, string>>;
  /** Running or paused (or on the way): most changes then apply at the next start. */
  running: ComputedRef<boolean>;
  /** Why a field cannot be changed now, or null. */
  lockReason: (field: SettingsField) => string | null;
  load: (details: MachineDetails, host: string) => void;
}

const KEY: InjectionKey<SettingsContext> = Symbol('settings-dialog');

export function provideSettings(): SettingsContext {
  const machines = useMachinesStore();
  const details = ref<MachineDetails | null>(null);
  const hostName = ref<string>(LOCAL_HOST);
  const form = reactive<SettingsForm>({
    name: '',
    osType: 'linux',
    notes: '',
    memoryMiB: 0,
    cpus: 0,
    firmware: 'bios',
    boot: [],
    displayAdapter: 'std',
    iso: '',
    kernelBoot: false,
    kernel: '',
    initrd: '',
    cmdline: '',
    serial: true,
    balloon: true,
    memoryMinAuto: true,
    memoryMinMiB: 0,
    memoryShares: 100,
    pageSharing: true,
    cpuCapOn: false,
    cpuCap: 100,
    cpuShares: 100,
    pinning: '',
  });
  const host = computed(() => machines.capsOf(hostName.value));
  // The live state (machine-state events), not the one read when the dialog opened.
  const state = computed(() => {
    const uuid = details.value?.uuid;
    const live = uuid ? machines.find({ host: hostName.value, uuid }) : undefined;
    return live?.status.state ?? details.value?.status.state ?? 'stopped';
  });
  const running = computed(() => isActive(state.value));
  const errors = computed(() =>
    details.value ? settingsErrors(form, details.value.config, machines.namesOf(hostName.value), host.value) : {},
  );
  const changes = computed(() => (details.value ? settingsChanges(form, details.value.config) : {}));
  const nics = reactive<NicDraft[]>([]);
  const otherMacs = computed(() => macOwners(machines.machinesOf(hostName.value), details.value?.uuid ?? ''));
  const nicErrors = computed(() => SLOTS.map((slot) => nicDraftErrors(nics, slot, otherMacs.value)));
  const nicChangeList = computed(() => (details.value ? nicChanges(nics, details.value.config) : []));
  const ctx: SettingsContext = {
    form,
    details,
    hostName,
    api: computed(() => apiFor(hostName.value)),
    host,
    errors,
    changes,
    nics,
    nicErrors,
    nicChanges: nicChangeList,
    otherMacs,
    running,
    lockReason: (field) => {
      const why = running.value ? LOCKED_WHILE_RUNNING[field] : undefined;
      return why ? t(why) : null;
    },
    load: (d, h) => {
      hostName.value = h;
      details.value = d;
      Object.assign(form, settingsFormFrom(d.config));
      nics.splice(0, nics.length, ...nicDraftsFrom(d.config));
    },
  };
  provide(KEY, ctx);
  return ctx;
}

export function useSettings(): SettingsContext {
  const ctx = inject(KEY);
  if (!ctx) throw new Error('Settings tabs must be used inside SettingsDialog');
  return ctx;
}
