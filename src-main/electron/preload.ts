/**
 * The preload of every VMDesk window (sandboxed, context-isolated): it exposes one object,
 * `window.vmdesk`, with three functions over three fixed channels — the shape
 * src-renderer/api/client.ts expects as PreloadBridge. No Node API, no ipcRenderer, no event
 * objects ever reach the page. Sandboxed preloads cannot load files: this module is bundled alone.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS } from './channels.js';

type Reply = { result: unknown } | { error: { code: string; message: string; details?: unknown } };

function invalid(message: string): Promise<Reply> {
  return Promise.resolve({ error: { code: 'INVALID_INPUT', message } });
}

function call(method: unknown, args: unknown, host?: unknown): Promise<Reply> {
  if (typeof method !== 'string' || method.length === 0 || method.length > 64) return invalid('The method must be a name');
  if (!Array.isArray(args)) return invalid(`The arguments of ${method} must be an array`);
  if (host !== undefined && (typeof host !== 'string' || host.length === 0 || host.length > 63)) return invalid('The host must be a name');
  const invoked =
    host === undefined ? ipcRenderer.invoke(IPC_CHANNELS.call, method, args) : ipcRenderer.invoke(IPC_CHANNELS.call, method, args, host);
  return (invoked as Promise<Reply>).catch(
    // Arguments that cannot be cloned (functions, DOM nodes) are refused before they leave.
    (err: unknown): Reply => ({ error: { code: 'INVALID_INPUT', message: err instanceof Error ? err.message : String(err) } }),
  );
}

function listen(channel: string, listener: unknown): () => void {
  if (typeof listener !== 'function') throw new TypeError('The listener must be a function');
  const forward = (_event: IpcRendererEvent, payload: unknown): void => {
    (listener as (payload: unknown) => void)(payload);
  };
  ipcRenderer.on(channel, forward);
  return () => {
    ipcRenderer.removeListener(channel, forward);
  };
}

contextBridge.exposeInMainWorld('vmdesk', {
  call,
  onEvent: (listener: unknown) => listen(IPC_CHANNELS.event, listener),
  onMenuCommand: (listener: unknown) => listen(IPC_CHANNELS.menu, listener),
});
