/**
 * A machine with encrypted disks: its passphrase is asked in a password prompt and sent with the
 * call that needs it (a start; a snapshot, restore, delete or clone of a stopped machine), and kept
 * nowhere, not even in this window. The core refuses such a call before doing anything when the
 * passphrase is missing or wrong; a wrong one is said in the prompt, which stays open for another
 * try; any other failure closes it and is reported as the call's own.
 */
import { ElMessageBox } from 'element-plus';
import type { VmdeskApi } from '../../src-main/api/contract';
import { t } from '../i18n';

function isPassphraseError(err: unknown): err is { message: string } {
  const details = (err as { details?: { needsPassphrase?: unknown } } | null)?.details;
  return details?.needsPassphrase === true && typeof (err as { message?: unknown }).message === 'string';
}

/** How the prompt asks: its title, what it says and its button, for the machine named `name`. */
interface PromptWords {
  title: string;
  message: string;
  confirm: string;
}

/**
 * `attempt` without a passphrase; when the core answers that the machine's encrypted disks need
 * one, asked for and `attempt` again with it. `{ result }` once it succeeded, null when the user
 * cancelled the prompt.
 */
export async function withPassphrase<T>(words: PromptWords, attempt: (passphrase?: string) => Promise<T>): Promise<{ result: T } | null> {
  try {
    return { result: await attempt() };
  } catch (err) {
    if (!isPassphraseError(err)) throw err;
  }
  let outcome: { result: T } | null = null;
  let failure: unknown = null;
  await ElMessageBox.prompt(words.message, words.title, {
    inputType: 'password',
    inputPlaceholder: t('errors.passphrase.placeholder'),
    confirmButtonText: words.confirm,
    cancelButtonText: t('common.cancel'),
    inputValidator: (v: string) => (v.length > 0 ? true : t('errors.passphrase.empty')),
    beforeClose: (action, box, done) => {
      if (action !== 'confirm') return done();
      box.confirmButtonLoading = true;
      box.confirmButtonText = t('errors.passphrase.unlocking');
      attempt(box.inputValue).then(
        (result) => {
          outcome = { result };
          done();
        },
        (err: unknown) => {
          box.confirmButtonLoading = false;
          box.confirmButtonText = words.confirm;
          if (isPassphraseError(err)) {
            box.editorErrorMessage = err.message;
            return;
          }
          failure = err;
          done();
        },
      );
    },
  }).catch(() => undefined);
  if (failure !== null) throw failure as Error;
  return outcome;
}

/** Starts a machine, asking for its passphrase if its disks are encrypted. False when the user cancelled. */
export async function startMachineAsking(api: VmdeskApi, uuid: string, name: string): Promise<boolean> {
  const words = {
    title: t('errors.passphrase.title', { name }),
    message: t('errors.passphrase.message', { name }),
    confirm: t('errors.passphrase.start'),
  };
  return (await withPassphrase(words, (passphrase) => api.startMachine(uuid, passphrase === undefined ? {} : { passphrase }))) !== null;
}

/**
 * A task a stopped encrypted machine needs its passphrase for, started asking for it (`start` gets
 * the passphrase, or nothing when none was needed). A cancelled prompt is an error saying nothing
 * was done, shown where the task's own errors are.
 */
export async function startTaskAsking<T>(name: string, start: (passphrase?: string) => Promise<T>): Promise<T> {
  const words = {
    title: t('errors.passphrase.unlockTitle', { name }),
    message: t('errors.passphrase.unlockMessage', { name }),
    confirm: t('errors.passphrase.unlock'),
  };
  const started = await withPassphrase(words, start);
  if (!started) throw new Error(t('errors.passphrase.notGiven'));
  return started.result;
}
