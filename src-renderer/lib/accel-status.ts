import type { HostCapabilities } from '../../src-main/api/types';
import { t } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';

/** What the status bar says about the host's accelerator; `reason` (why not KVM) only when it warns. */
export interface AccelStatus {
  warn: boolean;
  text: string;
  reason: string | null;
}

/** The host probe's words as a sentence: "no permission to open /dev/kvm" → "No permission to open /dev/kvm." */
export function asSentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function accelStatus(host: Pick<HostCapabilities, 'preferredAccel' | 'accelerators'>): AccelStatus {
  if (host.preferredAccel === 'kvm') return { warn: false, text: t('main.status.accelKvm'), reason: null };
  // The probe's reason is the core's own words, in the current language.
  const kvm = host.accelerators.kvm.reason;
  const reason = asSentence(kvm ? localizeApiMessage(kvm) : t('main.status.kvmUnavailable'));
  const text = host.preferredAccel === 'tcg' ? t('main.status.accelTcg') : t('main.status.accelNone');
  return { warn: true, text, reason };
}
