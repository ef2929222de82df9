/**
 * The desktop app itself: the built Electron main process (package.json `main`), driven by
 * playwright-core's Electron support, on a throw-away library. Where the Electron binary is not
 * installed (it is downloaded from GitHub when the electron package installs) this file reports
 * itself skipped, and says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { _electron as electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeSandbox, skipBecause, type Sandbox } from '../src-main/integration/harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** What the preload exposes (src-renderer/api/client.ts PreloadBridge), as the page sees it. */
interface Bridge {
  call(method: string, args: unknown[]): Promise<{ result: unknown } | { error: { code: string; message: string } }>;
  onEvent(listener: (message: unknown) => void): () => void;
  onMenuCommand(listener: (command: string) => void): () => void;
}
type PageGlobals = { vmdesk?: Bridge; require?: unknown; process?: unknown };

/** The Electron binary, found the way node_modules/electron/index.js finds it — without its download fallback. */
function findElectron(): { binary: string } | { skip: string } {
  const pkg = path.join(ROOT, 'node_modules', 'electron');
  let relative: string;
  try {
    relative = fs.readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
  } catch {
    return { skip: 'the Electron binary is not installed (node_modules/electron/path.txt is missing: its download never ran or failed)' };
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? path.join(override, relative) : path.join(pkg, 'dist', relative);
  return fs.existsSync(binary) ? { binary } : { skip: `the Electron binary ${binary} is absent` };
}

function hasDisplay(): boolean {
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY) || fs.existsSync('/usr/bin/Xvfb');
}

const found = findElectron();
const skipReason = 'skip' in found ? found.skip : hasDisplay() ? null : 'there is no display and no Xvfb to provide one';
if (skipReason) console.warn(`e2e/electron.test.ts skipped: ${skipReason}`);

/** A private X server when there is no display: `-displayfd` tells which number it took. */
async function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  const xvfb = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-screen', '0', '1600x1000x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start')), 10_000);
    xvfb.stdio[3]?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  return { display, process: xvfb };
}

describe('the Electron desktop app', () => {
  let sb: Sandbox;
  let configHome: string;
  let xvfb: ChildProcess | undefined;
  let app: ElectronApplication;
  let page: Page;

  // Each test reports itself skipped with the reason (listed by scripts/test-all.mjs).
  beforeEach((ctx) => {
    if (skipReason) skipBecause(ctx, skipReason);
  });

  beforeAll(async () => {
    if (skipReason || !('binary' in found)) return;
    for (const built of ['dist/electron/main.cjs', 'dist/electron/preload.cjs', 'dist/renderer/index.html']) {
      if (!fs.existsSync(path.join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\``);
    }
    sb = makeSandbox();
    // userData (window state, the single-instance lock) goes to a throw-away config folder too.
    configHome = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-e2e-config-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(sb.env)) if (v !== undefined) env[k] = v;
    env.XDG_CONFIG_HOME = configHome;
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) {
      const x = await startXvfb();
      xvfb = x.process;
      env.DISPLAY = x.display;
    }
    const args = [ROOT, '--disable-gpu'];
    // Chromium's own OS sandbox cannot run as root; the renderer keeps Electron's sandbox either way.
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    app = await electron.launch({ executablePath: found.binary, args, env, cwd: ROOT, timeout: 60_000 });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    xvfb?.kill();
    await sb?.cleanup();
    if (configHome) fs.rmSync(configHome, { recursive: true, force: true });
  });

  it('opens the main window, titled VMDesk, showing the built renderer', async () => {
    expect(await page.title()).toBe('VMDesk');
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.getTitle()));
    expect(windows).toEqual(['VMDesk']);
    expect(page.url()).toMatch(/^file:\/\/.*\/dist\/renderer\/index\.html/);
  });

  it('gives the renderer no Node: no require, no process', async () => {
    expect(await page.evaluate(() => [typeof (window as PageGlobals).require, typeof (window as PageGlobals).process])).toEqual([
      'undefined',
      'undefined',
    ]);
  });

  it('exposes exactly call, onEvent and onMenuCommand on (window as PageGlobals).vmdesk', async () => {
    expect(await page.evaluate(() => Object.keys((window as PageGlobals).vmdesk ?? {}).sort())).toEqual([
      'call',
      'onEvent',
      'onMenuCommand',
    ]);
  });

  it('answers the API over IPC: listMachines on the empty library, errors as values', async () => {
    expect(await page.evaluate(() => (window as PageGlobals).vmdesk?.call('listMachines', []))).toEqual({ result: [] });
    expect(await page.evaluate(() => (window as PageGlobals).vmdesk?.call('getMachine', ['no-such-machine']))).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
  });

  it('delivers menu commands to the renderer', async () => {
    const received = page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const stop = (window as PageGlobals).vmdesk?.onMenuCommand((id) => {
            stop?.();
            resolve(id);
          });
        }),
    );
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.webContents.send('vmdesk:menu', 'view.tasks'));
    expect(await received).toBe('view.tasks');
  });

  // Electron's security checklist on the running app; e2e/electron-checklist.test.ts checks the same
  // on the built bundle where there is no binary.
  it('isolates the preload from the page: a page that breaks its own built-ins cannot break the bridge', async () => {
    const reply = await page.evaluate(async () => {
      const isArray = Array.isArray;
      // With contextIsolation off, the preload would share this Array and refuse every call.
      Array.isArray = ((_value: unknown) => false) as unknown as typeof Array.isArray;
      try {
        return await (window as PageGlobals).vmdesk?.call('listMachines', []);
      } finally {
        Array.isArray = isArray;
      }
    });
    expect(reply).toEqual({ result: [] });
  });

  it('refuses navigation away from the renderer and window.open, and denies permissions', async () => {
    const before = page.url();
    await page.evaluate(() => {
      location.href = 'http://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
    expect(await page.evaluate(() => window.open('http://example.com/') === null)).toBe(true);
    expect(await page.evaluate(() => window.open('file:///etc/passwd') === null)).toBe(true);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    expect(await page.evaluate(() => navigator.permissions.query({ name: 'geolocation' }).then((s) => s.state))).toBe('denied');
    // A request the permission handler answers (no device needed, unlike getUserMedia).
    expect(await page.evaluate(() => Notification.requestPermission())).toBe('denied');
  });

  it('gives a frame inside the page no bridge to the API', async () => {
    const inFrame = await page.evaluate(async () => {
      const frame = document.createElement('iframe');
      frame.srcdoc = '<p>frame</p>';
      document.body.appendChild(frame);
      await new Promise((r) => frame.addEventListener('load', r, { once: true }));
      const inner = frame.contentWindow as unknown as { vmdesk?: unknown } | null;
      const bridge = inner?.vmdesk;
      frame.remove();
      return typeof bridge;
    });
    expect(inFrame).toBe('undefined');
  });

  it('lets the renderer open a console stream on its loopback server (its Origin is accepted)', async () => {
    const outcome = await page.evaluate(async () => {
      const reply = await (window as PageGlobals).vmdesk?.call('streamEndpoint', []);
      if (!reply || !('result' in reply)) return 'no endpoint';
      const { url, token } = reply.result as { url: string; token: string };
      const ws = new WebSocket(`${url}/console/serial/00000000-0000-4000-8000-000000000000?token=${encodeURIComponent(token)}`);
      return new Promise<string>((resolve) => {
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 10_000);
      });
    });
    expect(outcome).toBe('open');
  });
});

/**
 * The built preload, run the way Electron runs a sandboxed preload: its source wrapped in a function
 * of (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) — no
 * __filename, no __dirname — with a require that knows only electron, events, timers and url.
 * Needs no Electron binary, so it runs everywhere.
 */
describe('the preload bundle in a sandboxed renderer', () => {
  const SANDBOX_MODULES = new Set(['events', 'timers', 'url', 'node:events', 'node:timers', 'node:url']);

  function runPreload() {
    const exposed = new Map<string, Record<string, unknown>>();
    const invoked: unknown[][] = [];
    const ipcRenderer = Object.assign(new EventEmitter(), {
      invoke: (...args: unknown[]) => {
        invoked.push(args);
        return Promise.resolve({ result: 'ok' });
      },
    });
    const electronModule = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.set(key, api) },
      ipcRenderer,
    };
    const sandboxRequire = (id: string): unknown => {
      if (id === 'electron') return electronModule;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      if (SANDBOX_MODULES.has(id)) return require(id) as unknown;
      throw new Error(`module not found: ${id}`);
    };
    const source = fs.readFileSync(path.join(ROOT, 'dist/electron/preload.cjs'), 'utf8');
    const exports = {};
    // Electron's sandboxed renderer (lib/sandboxed_renderer/init.ts) wraps the preload just so.
    const wrapper = new vm.Script(
      `(function(require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {\n${source}\n})`,
      { filename: 'preload.cjs' },
    ).runInThisContext() as (...args: unknown[]) => void;
    wrapper(sandboxRequire, { platform: 'linux' }, Buffer, {}, setImmediate, clearImmediate, exports, { exports });
    return { exposed, invoked, ipcRenderer };
  }

  it('runs without Node globals and exposes exactly window.vmdesk with call, onEvent and onMenuCommand', () => {
    const { exposed } = runPreload();
    expect([...exposed.keys()]).toEqual(['vmdesk']);
    expect(Object.keys(exposed.get('vmdesk') ?? {}).sort()).toEqual(['call', 'onEvent', 'onMenuCommand']);
  });

  it('invokes the one call channel, and refuses malformed calls before they leave', async () => {
    const { exposed, invoked } = runPreload();
    const bridge = exposed.get('vmdesk') as unknown as Bridge;
    expect(await bridge.call('listMachines', [])).toEqual({ result: 'ok' });
    expect(invoked).toEqual([['vmdesk:call', 'listMachines', []]]);
    expect(await bridge.call('', [])).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(await bridge.call('listMachines', 'x' as unknown as unknown[])).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(invoked).toHaveLength(1);
  });

  it('hands listeners the payload only, never the IPC event, and unsubscribes', () => {
    const { exposed, ipcRenderer } = runPreload();
    const bridge = exposed.get('vmdesk') as unknown as Bridge;
    const got: unknown[][] = [];
    const stop = bridge.onEvent((...args) => got.push(args));
    const stopMenu = bridge.onMenuCommand((...args) => got.push(args));
    ipcRenderer.emit('vmdesk:event', { sender: 'secret' }, { event: 'machines', data: null });
    ipcRenderer.emit('vmdesk:menu', { sender: 'secret' }, 'machine.new');
    expect(got).toEqual([[{ event: 'machines', data: null }], ['machine.new']]);
    stop();
    stopMenu();
    expect(ipcRenderer.listenerCount('vmdesk:event') + ipcRenderer.listenerCount('vmdesk:menu')).toBe(0);
  });
});
