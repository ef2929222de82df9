import { computed, inject, provide, reactive, type ComputedRef, type InjectionKey } from 'vue';
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

/** The wizard's state, shared by its steps (provided by NewMachineWizard, injected by the steps). */
export interface WizardContext {
  form: WizardForm;
  host: ComputedRef<HostCapabilities | null>;
  errors: ComputedRef<FieldErrors>;
  warnings: ComputedRef<{ cpus?: string; memory?: string }>;
  /** The error of a field once the user has typed in it (or tried to go on). */
  shownError: (field: WizardField) => string | undefined;
  touch: (...fields: WizardField[]) => void;
  reset: () => void;
}

const KEY: InjectionKey<WizardContext> = Symbol('new-machine-wizard');

export function provideWizard(): WizardContext {
  const machines = useMachinesStore();
  const host = computed(() => machines.host);
  const form = reactive(defaultWizardForm(host.value));
  const touched = reactive(new Set<WizardField>());
  const errors = computed(() => wizardErrors(form, machines.names, host.value));
  const warnings = computed(() => resourceWarnings(form.cpus, form.memoryMiB, host.value));
  const ctx: WizardContext = {
    form,
    host,
    errors,
    warnings,
    shownError: (field) => (touched.has(field) ? errors.value[field] : undefined),
    touch: (...fields) => fields.forEach((f) => touched.add(f)),
    reset: () => {
      Object.assign(form, defaultWizardForm(host.value));
      touched.clear();
    },
  };
  provide(KEY, ctx);
  return ctx;
}

export function useWizard(): WizardContext {
  const ctx = inject(KEY);
  if (!ctx) throw new Error('Wizard steps must be used inside NewMachineWizard');
  return ctx;
}
