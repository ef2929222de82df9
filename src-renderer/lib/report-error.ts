import { ElMessage, ElMessageBox } from 'element-plus';
import { ApiError } from '../api/client';
import { t, type MessageKey } from '../i18n';
import { localizeApiMessage } from '../i18n/core-messages';

/**
 * What the API client itself says when the link to VMDesk is down (api/client.ts, left as it is):
 * shown in the current language. The core's own messages are translated by i18n/core-messages.ts.
 */
const CLIENT_MESSAGES: Record<string, MessageKey> = {
  'The connection to VMDesk was lost; reconnecting': 'errors.connectionLost',
  'Not connected to VMDesk; reconnecting': 'errors.notConnected',
};

/** The code and message of anything thrown by an API call. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof ApiError) {
    const own = err.code === 'DISCONNECTED' ? CLIENT_MESSAGES[err.message] : undefined;
    return { code: err.code, message: own ? t(own) : localizeApiMessage(err.message) };
  }
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}

/**
 * "No such machine (NOT_FOUND)": a failure's message (the core's English or already translated: it is
 * translated if it is not) with its code, as every box and alert shows it.
 */
export function withCode(e: { code: string; message: string }): string {
  return `${localizeApiMessage(e.message)} (${e.code})`;
}

/**
 * Shows a failed action (`what`: already in the current language, e.g. "Cannot start web"). When it
 * concerns a machine, the box offers "Show log" (QEMU's log), since that is where the reason of a
 * failed start usually is.
 */
export async function reportError(what: string, err: unknown, showLog?: () => void): Promise<void> {
  const { code, message } = describeError(err);
  if (!showLog) {
    ElMessage({ type: 'error', message: `${what}: ${message} (${code})`, duration: 8000, showClose: true });
    return;
  }
  try {
    await ElMessageBox.alert(`${message}`, `${what} (${code})`, {
      type: 'error',
      confirmButtonText: t('common.ok'),
      showCancelButton: true,
      cancelButtonText: t('main.details.showLog'),
      distinguishCancelAndClose: true,
      customClass: 'vm-error-box',
    });
  } catch (action) {
    if (action === 'cancel') showLog();
  }
}
