/**
 * Starting a machine with encrypted disks: its passphrase is asked in a password prompt and sent
 * with the start (it is kept nowhere, not even in this window). A wrong one is said in the prompt,
 * which stays open for another try; any other failure closes it and is reported as a start's is.
 */
import { ElMessageBox } from 'element-plus';
import type { VmdeskApi } from '../../src-main/api/contract';
import { t } from '../i18n';

function isPassphraseError(err: unknown): err is { message: string } {
  const details = (err as { details?: { needsPassphrase?: unknown } } | null)?.details;
  return details?.needsPassphrase === true && typeof (err as { message?: unknown }).message === 'string';
}

/**
 * Starts a machine; one with encrypted disks (the core refuses it without a passphrase, before
 * anything runs) through the prompt. False when the user cancelled the prompt.
 */
export async function startMachineAsking(api: VmdeskApi, uuid: string, name: string): Promise<boolean> {
  try {
    await api.startMachine(uuid);
    return true;
  } catch (err) {
    if (!isPassphraseError(err)) throw err;
    return startWithPassphrase(api, uuid, name);
  }
}

async function startWithPassphrase(api: VmdeskApi, uuid: string, name: string): Promise<boolean> {
  let failure: unknown = null;
  const answered = await ElMessageBox.prompt(t('errors.passphrase.message', { name }), t('errors.passphrase.title', { name }), {
    inputType: 'password',
    inputPlaceholder: t('errors.passphrase.placeholder'),
    confirmButtonText: t('errors.passphrase.start'),
    cancelButtonText: t('common.cancel'),
    inputValidator: (v: string) => (v.length > 0 ? true : t('errors.passphrase.empty')),
    beforeClose: (action, box, done) => {
      if (action !== 'confirm') return done();
      box.confirmButtonLoading = true;
      box.confirmButtonText = t('errors.passphrase.unlocking');
      api.startMachine(uuid, { passphrase: box.inputValue }).then(
        () => done(),
        (err: unknown) => {
          box.confirmButtonLoading = false;
          box.confirmButtonText = t('errors.passphrase.start');
          if (isPassphraseError(err)) {
            box.editorErrorMessage = err.message;
            return;
          }
          failure = err;
          done();
        },
      );
    },
  }).then(
    () => true,
    () => false,
  );
  if (failure !== null) throw failure as Error;
  return answered;
}
