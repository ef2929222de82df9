/**
 * The main-process side of the one IPC channel, without Electron: a call from a frame is checked
 * (is it our renderer?), dispatched through the contract and answered with `{ result }` or
 * `{ error }`. Nothing is thrown across IPC: Electron would reduce a thrown error to its message.
 */
import type { StreamEndpoint, VmdeskApi } from '../api/contract.js';
import { dispatch } from '../api/dispatch.js';
import { toErrorShape, type ErrorShape } from '../api/errors.js';
import type { CoreApi } from '../core/service.js';
import type { Language } from '../i18n/language.js';
import { isTrustedSender } from './security.js';

export type ApiReply = { result: unknown } | { error: ErrorShape };

export interface SenderFrame {
  url: string;
  isTopFrame: boolean;
}

/**
 * The whole contract for the desktop app: the core's part, plus where its console streams are
 * served and the native menu's language (`setMenuLanguage` rebuilds it; absent: nothing to change).
 */
export function desktopApi(service: CoreApi, endpoint: StreamEndpoint, setMenuLanguage?: (language: Language) => void): VmdeskApi {
  // CoreService's methods live on its prototype: a spread would lose them.
  return Object.assign(Object.create(service) as CoreApi, {
    streamEndpoint: () => Promise.resolve({ ...endpoint }),
    setMenuLanguage: (language: Language) => {
      setMenuLanguage?.(language);
      return Promise.resolve({ nativeMenu: setMenuLanguage !== undefined });
    },
  });
}

export async function answerApiCall(
  api: VmdeskApi,
  frame: SenderFrame | null,
  indexUrl: string,
  method: unknown,
  args: unknown,
  route?: (host: string | undefined, method: unknown, args: unknown) => Promise<unknown>,
  host?: unknown,
): Promise<ApiReply> {
  if (!isTrustedSender(frame, indexUrl)) {
    return { error: { code: 'INVALID_STATE', message: 'Only the VMDesk window may call the VMDesk API' } };
  }
  try {
    if (host !== undefined && host !== null) {
      if (typeof host !== 'string' || !route)
        return { error: { code: 'INVALID_INPUT', message: 'The host of a call must be the name of a host' } };
      return { result: await route(host, method, args) };
    }
    return { result: await dispatch(api, method, args) };
  } catch (err) {
    return { error: toErrorShape(err) };
  }
}
