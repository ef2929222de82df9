/**
 * VMDesk's windows: the main window and one window per console (`#/console/<uuid>` of the same
 * renderer), all with the same locked-down preferences, and the guards every web contents gets —
 * no navigation away from the renderer, no other windows, no webviews, no permissions.
 */
import { BrowserWindow, dialog, screen, session, shell, type WebContents, type WebPreferences } from 'electron';
import path from 'node:path';
import { classifyNavigation, isPermissionAllowed, isRendererUrl, rendererIndexUrl } from './security.js';
import { MIN_WINDOW_SIZE, fitToDisplays, loadWindowState, saveWindowState, type WindowState } from './window-state.js';

export interface RendererFiles {
  /** dist/renderer/index.html */
  indexHtml: string;
  /** Its file:// URL, what every frame allowed to call the API shows. */
  indexUrl: string;
  /** dist/electron/preload.cjs */
  preload: string;
}

function securePreferences(files: RendererFiles): WebPreferences {
  return {
    preload: files.preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/**
 * Session-wide rules: no permissions beyond writing to the clipboard; the CSP (`csp`, see
 * security.ts rendererCsp) also as a response header of the renderer's page.
 */
export function lockDownSession(files: RendererFiles, csp: string): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionAllowed(permission)));
  ses.setPermissionCheckHandler((_contents, permission) => isPermissionAllowed(permission));
  ses.webRequest.onHeadersReceived((details, callback) => {
    if (details.resourceType === 'mainFrame' && isRendererUrl(details.url.split('#')[0] ?? '', files.indexUrl)) {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    } else callback({});
  });
}

const consoleWindows = new Map<string, BrowserWindow>();

/** One console window per machine: keyed by its host and uuid (a uuid may exist on two hosts). */
export function openConsoleWindow(files: RendererFiles, uuid: string, hash: string, host?: string): void {
  const key = `${host ?? ''}/${uuid}`;
  const open = consoleWindows.get(key);
  if (open && !open.isDestroyed()) {
    open.focus();
    return;
  }
  const win = new BrowserWindow({
    width: 1040,
    height: 720,
    minWidth: 480,
    minHeight: 320,
    title: 'VMDesk console',
    show: false,
    webPreferences: securePreferences(files),
  });
  // No menu bar, so no menu accelerator takes a key the guest should get.
  win.removeMenu();
  consoleWindows.set(key, win);
  win.on('closed', () => consoleWindows.delete(key));
  win.once('ready-to-show', () => win.show());
  void win.loadFile(files.indexHtml, { hash });
}

async function confirmExternal(owner: BrowserWindow | null, url: string): Promise<void> {
  const options = {
    type: 'question' as const,
    buttons: ['Open in Browser', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    message: 'Open this address in your web browser?',
    detail: url,
  };
  const { response } = owner ? await dialog.showMessageBox(owner, options) : await dialog.showMessageBox(options);
  if (response === 0) await shell.openExternal(url);
}

/** Guards for every web contents the app creates (installed from app's web-contents-created). */
export function guardWebContents(files: RendererFiles, contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isRendererUrl(url.split('#')[0] ?? '', files.indexUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const target = classifyNavigation(url, files.indexUrl);
    if (target.kind === 'console') openConsoleWindow(files, target.uuid, target.hash, target.host);
    else if (target.kind === 'external') void confirmExternal(BrowserWindow.fromWebContents(contents), target.url).catch(() => undefined);
    return { action: 'deny' };
  });
}

export interface MainWindowOptions {
  files: RendererFiles;
  /** `<userData>/window-state.json` */
  stateFile: string;
  icon?: string;
}

/** The main window, placed where it was last time (if that is still on a display). */
export async function createMainWindow({ files, stateFile, icon }: MainWindowOptions): Promise<BrowserWindow> {
  const initial = fitToDisplays(
    await loadWindowState(stateFile),
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    ...(initial.x !== undefined && initial.y !== undefined ? { x: initial.x, y: initial.y } : {}),
    width: initial.width,
    height: initial.height,
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    title: 'VMDesk',
    show: false,
    ...(icon ? { icon } : {}),
    webPreferences: securePreferences(files),
  });
  if (initial.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  rememberWindowState(win, stateFile);
  await win.loadFile(files.indexHtml);
  return win;
}

/** Save bounds and maximized state when they settle and when the window closes. */
function rememberWindowState(win: BrowserWindow, stateFile: string): void {
  let timer: NodeJS.Timeout | undefined;
  const current = (): WindowState => ({ bounds: win.getNormalBounds(), maximized: win.isMaximized() });
  const save = (state: WindowState): void => {
    void saveWindowState(stateFile, state).catch((err: unknown) => console.error(`VMDesk: cannot save ${stateFile}:`, err));
  };
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!win.isDestroyed()) save(current());
    }, 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('maximize', later);
  win.on('unmaximize', later);
  win.on('close', () => {
    clearTimeout(timer);
    save(current());
  });
}

export function rendererFiles(appPath: string): RendererFiles {
  const indexHtml = path.join(appPath, 'dist', 'renderer', 'index.html');
  return { indexHtml, indexUrl: rendererIndexUrl(indexHtml), preload: path.join(appPath, 'dist', 'electron', 'preload.cjs') };
}
