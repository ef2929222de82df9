/**
 * The main process's wiring, run under Node with a stand-in for the electron module (the real
 * binary is not needed): the API over IPC with the sender check, events to the windows, the CSP
 * header, the console stream server and its Origin check, the menu, the guards and the quit flow.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { StandInRecord } from './testing/electron-stand-in.js';

const fake = vi.hoisted(() => {
  const tmp = (prefix: string): string =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('node:fs') as typeof fs).mkdtempSync(`${(require('node:os') as typeof os).tmpdir()}/${prefix}`);
  const home = tmp('vmdesk-home-');
  const runtime = tmp('vmrt-');
  process.env.VMDESK_HOME = home;
  process.env.VMDESK_RUNTIME_DIR = runtime;
  return { home, runtime, appPath: tmp('vmdesk-app-'), userData: tmp('vmdesk-userdata-'), rec: null as unknown as StandInRecord };
});

vi.mock('electron', async () => {
  const { electronStandIn, newStandInRecord } = await import('./testing/electron-stand-in.js');
  fake.rec = newStandInRecord(fake.appPath, fake.userData, false);
  return electronStandIn(fake.rec);
});

const indexHtml = path.join(fake.appPath, 'dist', 'renderer', 'index.html');
const indexUrl = pathToFileURL(indexHtml).href;
const frame = (url: string, parent: object | null = null) => ({ senderFrame: { url, parent } });
const call = (event: object, method: unknown, args: unknown) =>
  fake.rec.handlers.get('vmdesk:call')?.(event, method, args) as Promise<unknown>;

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the Electron main process', () => {
  beforeAll(async () => {
    fs.mkdirSync(path.dirname(indexHtml), { recursive: true });
    fs.writeFileSync(indexHtml, '<!doctype html><title>VMDesk</title>');
    await import('./main.js');
    fake.rec.ready?.();
    await until(() => fake.rec.windows.length === 1 && fake.rec.menu.length > 0);
  });

  afterAll(() => {
    if (!fake.rec.exited) fake.rec.windows[0]?.emit('close', { preventDefault: () => undefined });
    for (const dir of [fake.appPath, fake.home, fake.runtime, fake.userData]) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens one locked-down window on the built renderer', () => {
    expect(fake.rec.windows[0]?.opts.title).toBe('VMDesk');
    expect(fake.rec.windows[0]?.opts.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      preload: path.join(fake.appPath, 'dist', 'electron', 'preload.cjs'),
    });
  });

  it('answers the API over IPC, for our renderer only', async () => {
    expect(await call(frame(`${indexUrl}#/`), 'listMachines', [])).toEqual({ result: [] });
    expect(await call(frame(indexUrl, {}), 'listMachines', [])).toMatchObject({ error: { code: 'INVALID_STATE' } });
    expect(await call(frame('https://evil.example/'), 'listMachines', [])).toMatchObject({ error: { code: 'INVALID_STATE' } });
    expect(await call({ senderFrame: null }, 'listMachines', [])).toMatchObject({ error: { code: 'INVALID_STATE' } });
    expect(await call(frame(indexUrl), 'startMachine', [1])).toMatchObject({ error: { code: 'INVALID_INPUT' } });
  });

  it('serves console streams on loopback to the file:// page with the token, and to nobody else', async () => {
    const reply = (await call(frame(indexUrl), 'streamEndpoint', [])) as { result: { url: string; token: string } };
    const { url, token } = reply.result;
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const attempt = (origin: string, withToken: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${url}/console/serial/00000000-0000-4000-8000-000000000000?token=${withToken}`, { origin });
        ws.on('open', () => {
          resolve('open');
          ws.close();
        });
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('error', () => resolve('error'));
      });
    expect(await attempt('file://', token)).toBe('open');
    expect(await attempt('null', token)).toBe('403');
    expect(await attempt('https://evil.example', token)).toBe('403');
    expect(await attempt('file://', 'wrong')).toBe('401');
  });

  it('sends the renderer page its CSP as a header, limited to its own stream server', async () => {
    const { url } = ((await call(frame(indexUrl), 'streamEndpoint', [])) as { result: { url: string } }).result;
    const result = await new Promise<{ responseHeaders?: Record<string, string[]> }>((resolve) =>
      fake.rec.headers?.({ resourceType: 'mainFrame', url: `${indexUrl}#/`, responseHeaders: {} }, resolve),
    );
    const csp = result.responseHeaders?.['Content-Security-Policy']?.[0] ?? '';
    expect(csp).toContain(`connect-src 'self' ${url};`);
    expect(csp).toContain("script-src 'self';");
    const denied = await new Promise((resolve) => fake.rec.permission?.(null, 'media', resolve));
    expect(denied).toBe(false);
  });

  it('forwards the core’s events to every window', async () => {
    const sent = fake.rec.windows[0]?.webContents.sent ?? [];
    const machinesEvents = (): number =>
      sent.filter(([ch, msg]) => ch === 'vmdesk:event' && (msg as { event?: string }).event === 'machines').length;
    const before = machinesEvents();
    // What another core (the CLI) does to the library reaches this core's watcher, then the windows.
    fs.writeFileSync(path.join(fake.home, 'library.json'), JSON.stringify({ version: 1, machines: [] }));
    await until(() => machinesEvents() > before);
    expect(sent.find(([ch]) => ch === 'vmdesk:event')).toEqual(['vmdesk:event', { event: 'machines', data: null }]);
  });

  it('keeps windows on the renderer and opens console routes as console windows', () => {
    const contents = fake.rec.windows[0]?.webContents;
    let prevented = false;
    contents?.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(contents?.openHandler?.({ url: 'http://plain.example/' })).toEqual({ action: 'deny' });
    expect(fake.rec.dialogs).toEqual([]);
    // An https link is never opened in the app; the system browser may get it once the user agrees.
    expect(contents?.openHandler?.({ url: 'https://www.qemu.org/' })).toEqual({ action: 'deny' });
    expect(fake.rec.dialogs).toEqual(['Open this address in your web browser?']);
    expect(contents?.openHandler?.({ url: `${indexUrl}#/console/0f8e3c2a-1b2c-4d5e-8f90-123456789abc` })).toEqual({ action: 'deny' });
    expect(fake.rec.windows).toHaveLength(2);
    expect(fake.rec.windows[1]?.opts.title).toBe('VMDesk console');
    fake.rec.windows[1]?.emit('closed');
    if (fake.rec.windows[1]) fake.rec.windows[1].destroyed = true;
  });

  it('builds the native menu, whose commands reach the renderer', () => {
    expect(fake.rec.menu.map((s) => s.label)).toEqual(['&File', '&Machine', 'H&ost', '&View', '&Help']);
    const machine = fake.rec.menu[1]?.submenu ?? [];
    expect(machine.find((i) => i.label === '&New…')).toMatchObject({ accelerator: 'CmdOrCtrl+N', registerAccelerator: false });
    expect(machine.find((i) => i.label?.startsWith('&Add'))).toMatchObject({ enabled: false, label: '&Add… (not available yet)' });
    machine.find((i) => i.label === 'S&tart')?.click?.();
    expect(fake.rec.windows[0]?.webContents.sent.at(-1)).toEqual(['vmdesk:menu', 'machine.start']);
  });

  it('relabels the native menu in the language the renderer shows, and refuses one it has no catalogue for', async () => {
    const menus = fake.rec.menu;
    expect(await call(frame(indexUrl), 'setMenuLanguage', ['de'])).toEqual({ result: { nativeMenu: true } });
    expect(fake.rec.menu).not.toBe(menus);
    expect(fake.rec.menu.map((s) => s.label)).toEqual(['&Datei', '&Maschine', 'H&ost', '&Ansicht', '&Hilfe']);
    // Its commands still reach the renderer.
    fake.rec.menu[1]?.submenu.find((i) => i.label === '&Starten')?.click?.();
    expect(fake.rec.windows[0]?.webContents.sent.at(-1)).toEqual(['vmdesk:menu', 'machine.start']);
    expect(await call(frame(indexUrl), 'setMenuLanguage', ['fr'])).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(await call(frame(indexUrl), 'setMenuLanguage', ['en'])).toEqual({ result: { nativeMenu: true } });
    expect(fake.rec.menu.map((s) => s.label)).toEqual(['&File', '&Machine', 'H&ost', '&View', '&Help']);
  });

  it('quits at once when no machine runs, and stops its server and IPC first', async () => {
    const dialogs = fake.rec.dialogs.length;
    fake.rec.menu[0]?.submenu.at(-1)?.click?.();
    await until(() => fake.rec.exited);
    expect(fake.rec.dialogs).toHaveLength(dialogs);
    expect(fake.rec.handlers.has('vmdesk:call')).toBe(false);
  });
});
