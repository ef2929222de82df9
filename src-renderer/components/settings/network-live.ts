/**
 * Network changes applied at once rather than by Save (cable, port forwards): one at a time, the
 * dialog's stored config replaced by the one the core answers, the outcome told plainly.
 */
import { localizeApiMessage } from '../../i18n/core-messages';
import { ref, type Ref } from 'vue';
import { ElMessage, ElNotification } from 'element-plus';
import type { NetworkOutcome } from '../../../src-main/api/network';
import type { VmdeskApi } from '../../../src-main/api/contract';
import { useMachinesStore } from '../../stores/machines';
import { useSettings } from './settings-context';
import { t } from '../../i18n';

export interface NetworkLive {
  busy: Ref<boolean>;
  /**
   * Runs `call` on the machine, with its host's API. Success: the stored config is updated and `what` (in the current language) shown (with whether
   * the running guest has it now). Failure: what was thrown is returned (the core changed nothing).
   */
  apply: (what: string, call: (uuid: string, api: VmdeskApi) => Promise<NetworkOutcome>) => Promise<{ error: unknown } | null>;
}

export function useNetworkLive(): NetworkLive {
  const { details, hostName, api } = useSettings();
  const machines = useMachinesStore();
  const busy = ref(false);

  async function apply(what: string, call: (uuid: string, api: VmdeskApi) => Promise<NetworkOutcome>): Promise<{ error: unknown } | null> {
    const d = details.value;
    if (!d || busy.value) return null;
    busy.value = true;
    try {
      const out = await call(d.uuid, api.value);
      if (details.value?.uuid === d.uuid) details.value = { ...details.value, config: out.config };
      ElMessage({ type: 'success', message: out.live ? t('settings.network.liveNow', { what }) : what });
      for (const w of out.warnings)
        ElNotification({
          type: 'warning',
          title: t('settings.network.warningTitle', { name: out.config.name }),
          message: localizeApiMessage(w),
          duration: 0,
        });
      // The details pane behind shows it too, whether the dialog is then saved or cancelled.
      void machines.refresh(hostName.value);
      return null;
    } catch (err) {
      return { error: err };
    } finally {
      busy.value = false;
    }
  }

  return { busy, apply };
}
