/**
 * The Electron main process: one instance per user, one long-lived core (watching the library, as
 * `vmdesk serve` does), the API over one IPC channel, the core's events pushed to every window, and
 * a loopback server for the console streams only the renderer gets the token of.
 */
import { BrowserWindow, app, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiEventMessage } from '../api/contract.js';
import { toErrorShape } from '../api/errors.js';
import { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { startServer } from '../server/server.js';
import { answerApiCall, desktopApi, type SenderFrame } from './api-bridge.js';
import { IPC_CHANNELS } from './channels.js';
import type { Language } from '../i18n/language.js';
import { installApplicationMenu } from './menu.js';
import { decideQuit } from './quit-dialog.js';
import { FILE_PAGE_ORIGINS, rendererCsp } from './security.js';
import { WINDOW_STATE_FILE } from './window-state.js';
import { createMainWindow, guardWebContents, lockDownSession, rendererFiles, type RendererFiles } from './windows.js';

const STREAM_HOST = '127.0.0.1';

function senderFrame(event: IpcMainInvokeEvent): SenderFrame | null {
  const frame = event.senderFrame;
  return frame ? { url: frame.url, isTopFrame: frame.parent === null } : null;
}

/**
 * The core spawns each VM's agent as `process.execPath <agent script>`; here that is the Electron
 * binary, which runs a script as plain Node only with ELECTRON_RUN_AS_NODE set.
 */
function coreEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, ELECTRON_RUN_AS_NODE: '1' };
}

function broadcast(message: ApiEventMessage): void {
  for (const win of BrowserWindow.getAllWindows()) {
    if (!win.isDestroyed()) win.webContents.send(IPC_CHANNELS.event, message);
  }
}

function iconFile(appPath: string): string | undefined {
  const file = path.join(appPath, 'resources', 'icons', 'vmdesk.png');
  return fs.existsSync(file) ? file : undefined;
}

async function start(files: RendererFiles): Promise<void> {
  if (!fs.existsSync(files.indexHtml)) {
    throw new Error(`The user interface is not built (${files.indexHtml} is missing): run \`npm run build\`.`);
  }
  const core = new Core({ env: coreEnvironment(process.env) });
  const stopWatching = await core.watch();
  const service = new CoreService(core);
  const server = await startServer({
    core,
    host: STREAM_HOST,
    port: 0,
    rendererDir: path.dirname(files.indexHtml),
    allowedOrigins: FILE_PAGE_ORIGINS,
    service,
    // The window loads its page from a file, and this server's token is never shown: nothing to draw.
    serverRendererDir: null,
  });
  void service.hosts.connectAll().catch((err: unknown) => console.error('VMDesk: remote hosts:', err));
  const streamServer = `ws://${STREAM_HOST}:${server.port}`;
  // The menu is made once the window is: a language the renderer asks for before is kept for it.
  let asked: Language | null = null;
  let relabelMenu = (language: Language): void => void (asked = language);
  const api = desktopApi(service, { url: streamServer, token: server.token }, (language) => relabelMenu(language));

  lockDownSession(files, rendererCsp(streamServer));
  ipcMain.handle(IPC_CHANNELS.call, (event, method: unknown, args: unknown, host: unknown) =>
    answerApiCall(api, senderFrame(event), files.indexUrl, method, args, (h, m, a) => service.call(h, m, a, api), host),
  );
  const unsubscribe = service.subscribe((event, data, host) => broadcast(host === undefined ? { event, data } : { event, data, host }));

  const appPath = app.getAppPath();
  const icon = iconFile(appPath);
  const win = await createMainWindow({
    files,
    stateFile: path.join(app.getPath('userData'), WINDOW_STATE_FILE),
    ...(icon ? { icon } : {}),
  });
  relabelMenu = installApplicationMenu(
    { isDev: !app.isPackaged },
    { target: () => BrowserWindow.getFocusedWindow() ?? (win.isDestroyed() ? null : win), quit: () => app.quit() },
  );
  if (asked) relabelMenu(asked);

  app.on('second-instance', () => {
    if (win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });

  let quitApproved = false;
  let deciding = false;
  win.on('close', (event) => {
    if (quitApproved) return;
    event.preventDefault();
    if (deciding) return;
    deciding = true;
    decideQuit(win, service)
      .then((quit) => {
        if (!quit) return;
        quitApproved = true;
        app.quit();
      })
      .catch((err: unknown) => console.error('VMDesk: cannot decide about quitting:', err))
      .finally(() => (deciding = false));
  });
  // Console windows do not outlive the main window.
  win.on('closed', () => app.quit());

  let cleanedUp = false;
  let cleaning = false;
  app.on('will-quit', (event) => {
    if (cleanedUp) return;
    event.preventDefault();
    if (cleaning) return;
    cleaning = true;
    unsubscribe();
    service.close();
    stopWatching();
    ipcMain.removeHandler(IPC_CHANNELS.call);
    void server
      .close()
      .catch((err: unknown) => console.error('VMDesk: cannot stop the console server:', err))
      .finally(() => {
        cleanedUp = true;
        app.quit();
      });
  });
}

function main(): void {
  app.setName('VMDesk');
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    // The running instance gets 'second-instance' and comes to the front.
    app.quit();
    return;
  }
  const files = rendererFiles(app.getAppPath());
  app.on('web-contents-created', (_event, contents) => guardWebContents(files, contents));
  app.on('window-all-closed', () => app.quit());
  app
    .whenReady()
    .then(() => start(files))
    .catch((err: unknown) => {
      dialog.showErrorBox('VMDesk cannot start', toErrorShape(err).message);
      app.exit(1);
    });
}

main();
