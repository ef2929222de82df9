import { computed, inject, provide, reactive, ref, type ComputedRef, type InjectionKey, type Ref } from 'vue';
import type { HostCapabilities } from '../../../src-main/api/types';
import {
  defaultWizardForm,
  resourceWarnings,
  wizardErrors,
  type FieldErrors,
  type WizardField,
  type WizardForm,
} from '../../lib/wizard-input';
import { useMachinesStore } from '../../stores/machines';
import { useHostsStore } from '../../stores/hosts';
import { LOCAL_HOST, hostLabel, isLocalHost } from '../../lib/hosts';

/** The wizard's state, shared by its steps (provided by NewMachineWizard, injected by the steps). */
export interface WizardContext {
  form: WizardForm;
  /** The host the machine is created on ("local": this computer); its paths are the ones the form names. */
  targetHost: Ref<string>;
  /** The hosts it can be created on now: this computer and the connected remote hosts. */
  hostChoices: ComputedRef<{ value: string; label: string }[]>;
  /** The target host's capabilities. */
  host: ComputedRef<HostCapabilities | null>;
  errors: ComputedRef<FieldErrors>;
  warnings: ComputedRef<{ cpus?: string; memory?: string }>;
  /** The error of a field once the user has typed in it (or tried to go on). */
  shownError: (field: WizardField) => string | undefined;
  touch: (...fields: WizardField[]) => void;
  /** A fresh form, on `targetHost` (this computer when absent or not reachable). */
  reset: (targetHost?: string | null) => void;
}

const KEY: InjectionKey<WizardContext> = Symbol('new-machine-wizard');

export function provideWizard(): WizardContext {
  const machines = useMachinesStore();
  const hosts = useHostsStore();
  const targetHost = ref<string>(LOCAL_HOST);
  const host = computed(() => machines.capsOf(targetHost.value));
  const hostChoices = computed(() =>
    hosts.sorted
      .filter((h) => h.local || hosts.reachable(h.name))
      .map((h) => {
        const dest = h.entry?.destination;
        return { value: h.name, label: isLocalHost(h.name) || !dest || dest === h.name ? hostLabel(h.name) : `${h.name} — ${dest}` };
      }),
  );
  const form = reactive(defaultWizardForm(host.value));
  const touched = reactive(new Set<WizardField>());
  const errors = computed(() => wizardErrors(form, machines.namesOf(targetHost.value), host.value));
  const warnings = computed(() => resourceWarnings(form.cpus, form.memoryMiB, host.value));
  const ctx: WizardContext = {
    form,
    targetHost,
    hostChoices,
    host,
    errors,
    warnings,
    shownError: (field) => (touched.has(field) ? errors.value[field] : undefined),
    touch: (...fields) => fields.forEach((f) => touched.add(f)),
    reset: (to) => {
      targetHost.value = to && hosts.reachable(to) ? to : LOCAL_HOST;
      Object.assign(form, defaultWizardForm(host.value));
      touched.clear();
    },
  };
  provide(KEY, ctx);
  return ctx;
}

export function useWizard(): WizardContext {
  const ctx = inject(KEY);
  // A programming error (never shown to a user): left in English.
  if (!ctx) throw new Error('Wizard steps must be used inside NewMachineWizard');
  return ctx;
}
