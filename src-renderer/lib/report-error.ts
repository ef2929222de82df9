import { ElMessage, ElMessageBox } from 'element-plus';
import { ApiError } from '../api/client';

/** The code and message of anything thrown by an API call. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}

/**
 * Shows a failed action. When it concerns a machine, the box offers "Show log" (QEMU's log), since
 * that is where the reason of a failed start usually is.
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
      confirmButtonText: 'OK',
      showCancelButton: true,
      cancelButtonText: 'Show log',
      distinguishCancelAndClose: true,
      customClass: 'vm-error-box',
    });
  } catch (action) {
    if (action === 'cancel') showLog();
  }
}
