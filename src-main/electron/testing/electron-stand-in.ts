/**
 * A stand-in for the `electron` module, for tests of the main process where the Electron binary is
 * absent (it is downloaded from GitHub, which this machine cannot reach): it records every window the
 * main process asks for, every handler it installs and every call it makes, and behaves as Electron
 * does where the main process depends on it (ready, the order of a quit, window.open handlers).
 * Used by main.test.ts (the sources, through vi.mock) and e2e/electron-checklist.test.ts (the built
 * bundle, through Node's loader). Not shipped: only main.ts and preload.ts are bundled.
 */
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';

export type Handler = (...args: unknown[]) => unknown;

export interface StandInContents extends EventEmitter {
  sent: [string, unknown][];
  openHandler?: (details: { url: string }) => { action: string };
}

export interface StandInWindow extends EventEmitter {
  opts: { title?: string; webPreferences?: Record<string, unknown> };
  destroyed: boolean;
  webContents: StandInContents;
}

export interface StandInMenuItem {
  label?: string;
  enabled?: boolean;
  accelerator?: string;
  registerAccelerator?: boolean;
  role?: string;
  click?: () => void;
}

/** What the main process did; the test owns it (vi.hoisted needs it before any import). */
export interface StandInRecord {
  appPath: string;
  userData: string;
  isPackaged: boolean;
  windows: StandInWindow[];
  /** file:// URLs (with their hash) and URLs the windows loaded, in order. */
  loads: string[];
  handlers: Map<string, Handler>;
  /** Channels given to ipcMain.on (the app uses invoke only). */
  ipcOn: string[];
  permission: Handler | null;
  permissionCheck: Handler | null;
  headers: Handler | null;
  /** Was app.enableSandbox() called before the app was ready (as Electron requires)? */
  sandboxBeforeReady: boolean;
  openExternal: string[];
  /** Message boxes by message (error boxes as "title: message"), and their details. */
  dialogs: string[];
  dialogDetails: string[];
  /** Button indexes the next message boxes answer; then 2 (no button of ours). */
  dialogAnswers: number[];
  menu: { label: string; submenu: StandInMenuItem[] }[];
  quits: number;
  exited: boolean;
  /** Makes app.whenReady() resolve. */
  ready: (() => void) | null;
}

export function newStandInRecord(appPath: string, userData: string, isPackaged: boolean): StandInRecord {
  return {
    appPath,
    userData,
    isPackaged,
    windows: [],
    loads: [],
    handlers: new Map(),
    ipcOn: [],
    permission: null,
    permissionCheck: null,
    headers: null,
    sandboxBeforeReady: false,
    openExternal: [],
    dialogs: [],
    dialogDetails: [],
    dialogAnswers: [],
    menu: [],
    quits: 0,
    exited: false,
    ready: null,
  };
}

export function electronStandIn(rec: StandInRecord): unknown {
  let isReady = false;
  const ready = new Promise<void>(
    (resolve) =>
      (rec.ready = () => {
        isReady = true;
        resolve();
      }),
  );
  class App extends EventEmitter {
    isPackaged = rec.isPackaged;
    setName(): void {}
    enableSandbox(): void {
      rec.sandboxBeforeReady = !isReady;
    }
    requestSingleInstanceLock(): boolean {
      return true;
    }
    whenReady(): Promise<void> {
      return ready;
    }
    getAppPath(): string {
      return rec.appPath;
    }
    getPath(): string {
      return rec.userData;
    }
    /** A desktop in English: the menu's language comes from these. */
    getPreferredSystemLanguages(): string[] {
      return ['en-US'];
    }
    getLocale(): string {
      return 'en-US';
    }
    /** Electron's order: close every window (a prevented close cancels the quit), then will-quit. */
    quit(): void {
      rec.quits++;
      for (const win of rec.windows.filter((w) => !w.destroyed)) {
        let prevented = false;
        win.emit('close', { preventDefault: () => (prevented = true) });
        if (prevented) return;
        win.destroyed = true;
        win.emit('closed');
      }
      let prevented = false;
      this.emit('will-quit', { preventDefault: () => (prevented = true) });
      if (!prevented) rec.exited = true;
    }
    exit(): void {
      rec.exited = true;
    }
  }
  const app = new App();
  class BrowserWindow extends EventEmitter implements StandInWindow {
    destroyed = false;
    readonly webContents: StandInContents;
    constructor(readonly opts: StandInWindow['opts']) {
      super();
      const contents: StandInContents = Object.assign(new EventEmitter(), {
        sent: [] as [string, unknown][],
        send(channel: string, payload: unknown) {
          contents.sent.push([channel, payload]);
        },
        setWindowOpenHandler(handler: StandInContents['openHandler']) {
          contents.openHandler = handler;
        },
      });
      this.webContents = contents;
      rec.windows.push(this);
      app.emit('web-contents-created', {}, contents);
    }
    static getAllWindows(): StandInWindow[] {
      return rec.windows.filter((w) => !w.destroyed);
    }
    static getFocusedWindow(): null {
      return null;
    }
    static fromWebContents(): null {
      return null;
    }
    loadFile(file: string, options?: { hash?: string }): Promise<void> {
      rec.loads.push(`${pathToFileURL(file).href}${options?.hash ? `#${options.hash}` : ''}`);
      this.emit('ready-to-show');
      return Promise.resolve();
    }
    loadURL(url: string): Promise<void> {
      rec.loads.push(url);
      return Promise.resolve();
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    getTitle(): string {
      return this.opts.title ?? '';
    }
    getNormalBounds() {
      return { x: 10, y: 10, width: 1200, height: 800 };
    }
    isMaximized = (): boolean => false;
    isMinimized = (): boolean => false;
    setTitle(): void {}
    show(): void {}
    focus(): void {}
    restore(): void {}
    maximize(): void {}
    removeMenu(): void {}
  }
  return {
    app,
    BrowserWindow,
    ipcMain: {
      handle: (channel: string, fn: Handler) => rec.handlers.set(channel, fn),
      removeHandler: (channel: string) => rec.handlers.delete(channel),
      on: (channel: string) => rec.ipcOn.push(channel),
    },
    dialog: {
      showMessageBox: (...args: unknown[]) => {
        const options = args.at(-1) as { message: string; detail?: string };
        rec.dialogs.push(options.message);
        rec.dialogDetails.push(options.detail ?? '');
        return Promise.resolve({ response: rec.dialogAnswers.shift() ?? 2 });
      },
      showErrorBox: (title: string, message: string) => rec.dialogs.push(`${title}: ${message}`),
    },
    Menu: {
      buildFromTemplate: (template: unknown) => template,
      setApplicationMenu: (menu: StandInRecord['menu']) => (rec.menu = menu),
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: Handler) => (rec.permission = h),
        setPermissionCheckHandler: (h: Handler) => (rec.permissionCheck = h),
        webRequest: { onHeadersReceived: (h: Handler) => (rec.headers = h) },
      },
    },
    shell: {
      openExternal: (url: string) => {
        rec.openExternal.push(url);
        return Promise.resolve();
      },
    },
  };
}
