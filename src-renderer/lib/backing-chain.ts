/**
 * An image that reads from backing files is used only when the user confirms every file of its
 * chain (the core refuses it otherwise, with the chain in the error's details). This asks, showing
 * each file, and answers the files to trust, or null.
 */
import { ElMessageBox } from 'element-plus';
import { t } from '../i18n';

export interface UntrustedChain {
  chain: Array<{ file: string; format: string }>;
  untrusted: string[];
}

/** The chain to confirm, when an error is the core's refusal of an unconfirmed chain. */
export function untrustedChain(error: { details?: unknown } | null | undefined): UntrustedChain | null {
  const d = error?.details as { reason?: unknown; chain?: unknown; untrusted?: unknown } | undefined;
  if (d?.reason !== 'untrusted-backing' || !Array.isArray(d.chain) || !Array.isArray(d.untrusted)) return null;
  return { chain: d.chain as UntrustedChain['chain'], untrusted: d.untrusted as string[] };
}

export function chainMessage(image: string, c: UntrustedChain): string {
  return [
    t('dialogs.chain.intro', { image }),
    '',
    ...c.chain.map((l, i) => `${i + 1}. ${l.file} (${l.format})`),
    '',
    t('dialogs.chain.warning'),
  ].join('\n');
}

/** Ask; the files to trust when the user confirms. */
export async function confirmChain(image: string, c: UntrustedChain): Promise<string[] | null> {
  try {
    await ElMessageBox.confirm(chainMessage(image, c), t('dialogs.chain.title'), {
      type: 'warning',
      confirmButtonText: t('dialogs.chain.confirm'),
      cancelButtonText: t('common.cancel'),
      customClass: 'vm-chain-box',
    });
    return c.chain.map((l) => l.file);
  } catch {
    return null;
  }
}
