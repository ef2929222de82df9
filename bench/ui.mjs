// The UI end to end (vmdesk serve + Debian's Chromium): serial console throughput and keystroke
// echo latency through the xterm vs a raw reader of the same console socket, and the main window
// with 200 machines (first render, JS heap) and the size of the renderer it loads.
// BENCH_UI_ONLY=render runs only the main window's part (no guest, a minute or so); BENCH_UI_ONLY=echo
// only the keystroke echo (BENCH_UI_KEYS keys, 30 by default; about a minute).
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { CLI, ROOT, cli, fmt, machineInfo, median, sandbox } from './lib.mjs';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const NO_CHROMIUM_UI = `--disable-features=${[
  // Playwright's own list (playwright-core's chromiumSwitches), as of 1.65.
  'AimEnabled,AvoidCorsURLLoaderRestartOnRedirect,AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose',
  'HttpsFirstBalancedModeAutoEnable,HttpsUpgrades,LensOverlay,MediaRouter,NetworkTimeServiceQuerying,OptimizationHints',
  'PaintHolding,PreconnectToSearch,ThirdPartyStoragePartitioning',
  // The omnibox popup and reload button WebUIs, and their prewarming.
  'WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup,WebUIReloadButton,WebUIReloadButtonPrewarmWebUI,PrewarmWebUIContents',
].join(',')}`;
const PROMPT = 'vmdesk-demo# ';
const out = [
  `ui (${machineInfo()})`,
  '| measure | through the UI | raw console socket | ratio | goal |',
  '| --- | --- | --- | --- | --- |',
];

async function serve(sb, extra = []) {
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...extra], { env: sb.env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let text = '';
    server.stdout.on('data', (d) => {
      text += d;
      const m = /VMDesk is serving on (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`vmdesk serve exited ${code}`)));
  });
  return { server, url };
}

/** A raw viewer of the agent's console socket, which can wait for a text after a given offset. */
function rawViewer(socketPath) {
  const socket = net.createConnection(socketPath);
  let text = '';
  const waiters = [];
  socket.on('data', (d) => {
    text += d.toString('latin1');
    for (const w of [...waiters]) {
      if (text.indexOf(w.needle, w.from) !== -1) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(performance.now());
      }
    }
  });
  return {
    socket,
    length: () => text.length,
    when(needle, from) {
      return new Promise((resolve) => {
        if (text.indexOf(needle, from) !== -1) return resolve(performance.now());
        waiters.push({ needle, from, resolve });
      });
    },
  };
}

/**
 * Installed in a page before its own scripts (addInitScript): the keys as the page gets them, and the
 * messages of its WebSocket whose URL contains `socketMatch`, on the page's clock.
 */
function echoProbe(socketMatch) {
  window.__keys = [];
  window.__received = [];
  document.addEventListener('keydown', (ev) => window.__keys.push(ev.timeStamp), true);
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      if (!String(args[0]).includes(socketMatch)) return;
      this.addEventListener('message', (ev) => {
        const bytes = typeof ev.data === 'string' ? null : new Uint8Array(ev.data);
        // An echo is a few bytes; the scrollback sent first may be a MiB.
        const text = bytes ? (bytes.length > 4096 ? '' : String.fromCharCode(...bytes)) : ev.data;
        window.__received.push([performance.now(), text]);
      });
    }
  };
}

/**
 * In the page: `__arm(text)` forgets the keys and messages so far and makes `__armed` a promise of
 * the moment (page clock) a change of the element `selector` first shows `text`.
 */
function watchRows(selector) {
  const el = document.querySelector(selector);
  let wanted = null;
  window.__arm = (text) => {
    window.__keys = [];
    window.__received = [];
    window.__armed = new Promise((resolve) => (wanted = { text, resolve }));
  };
  new MutationObserver(() => {
    if (wanted && (el.textContent ?? '').includes(wanted.text)) {
      wanted.resolve(performance.now());
      wanted = null;
    }
  }).observe(el, { childList: true, subtree: true, characterData: true });
}

const settle = () => new Promise((r) => setTimeout(r, 300));

/**
 * One timed key in a page that has echoProbe and watchRows: `prefix` typed first (untimed), then `ch`;
 * from the key's event to its echo's WebSocket message and to the change of the rows that shows it.
 */
async function timeKey(page, prefix, ch) {
  await page.evaluate((m) => window.__arm(m), prefix);
  await page.keyboard.type(prefix);
  await page.evaluate(() => window.__armed);
  await settle();
  await page.evaluate((m) => window.__arm(m), prefix + ch);
  await page.keyboard.type(ch);
  const drawnAt = await page.evaluate(() => window.__armed);
  const t = await page.evaluate(
    (c) => ({ key: window.__keys[0], received: (window.__received.find(([, text]) => text.includes(c)) ?? [NaN])[0] }),
    ch,
  );
  return { drawn: drawnAt - t.key, received: t.received - t.key };
}

/**
 * The floor of a keystroke's echo in any web page, VMDesk or not: a page of a few lines (a textarea
 * whose keys go out as bytes on a WebSocket, a <pre> that the echo is appended to in the next
 * animation frame, as xterm.js renders), and a relay of a few lines in this process, WebSocket ↔ the
 * agent's console.sock. No VMDesk code on the way but the agent, as for the raw socket.
 */
async function barePage(browser, socketPath) {
  const html = `<!doctype html><meta charset="utf-8"><title>bare echo</title>
<textarea id="in" aria-label="keys"></textarea><pre id="out"></pre>
<script>
const out = document.getElementById('out');
const ws = new WebSocket('ws://' + location.host + '/console');
ws.binaryType = 'arraybuffer';
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let pending = '';
ws.onmessage = (ev) => {
  if (!pending) requestAnimationFrame(() => { out.textContent += pending; pending = ''; });
  pending += decoder.decode(ev.data, { stream: true });
};
document.getElementById('in').addEventListener('keydown', (ev) => {
  const data = ev.key.length !== 1 ? '' : ev.ctrlKey ? String.fromCharCode(ev.key.toUpperCase().charCodeAt(0) - 64) : ev.key;
  if (!data) return;
  ev.preventDefault();
  ws.send(encoder.encode(data));
});
</script>`;
  const httpServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  const wss = new WebSocketServer({ server: httpServer });
  wss.on('connection', (ws) => {
    const unix = net.createConnection(socketPath);
    unix.on('data', (d) => ws.send(d));
    ws.on('message', (d) => unix.write(d));
    ws.on('close', () => unix.destroy());
    unix.on('error', () => ws.close());
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(echoProbe, '/console');
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${httpServer.address().port}/`);
  await page.evaluate(watchRows, '#out');
  await page.locator('#in').focus();
  return {
    page,
    close: async () => {
      await context.close();
      wss.close();
      httpServer.close();
    },
  };
}

/**
 * The main window with 200 machines: a fresh browser context per load (nothing cached), timed two
 * ways. From outside: page.goto (up to the page's commit) → Playwright sees the list's first machine.
 * In the page, which is more exact (no Playwright round trips or polling): a MutationObserver
 * installed before any script of the page records, on the page's own clock (0 = navigation start),
 * the animation frame in which the list first holds the first machine, m000: the frame that paints
 * the list with the machines known. (Until 2026-12-03 it waited for the last machine, m199; the list
 * now draws only the rows on screen, so m199 is never drawn at first.) Also Chromium's first
 * contentful paint, the frame painting the first machine's details, and when the page's script has
 * taken the window over (main.ts's `vmdesk-mounted` mark: from then on it answers clicks and keys).
 *
 * Each load twice: the window drawn by `vmdesk serve` into the page (the default since 2026-12-04),
 * and drawn by the page itself (`--no-server-render`, the way before), from the same library.
 */
async function mainWindow() {
  const runs = Number(process.env.BENCH_UI_RENDERS ?? 5);
  // A browser of its own, without Chromium's own UI pages: each new window of Debian's Chromium 156
  // loads its omnibox popup (a "top-chrome" WebUI renderer, ~400 requests and ~1.7 s of CPU in the
  // first seconds) beside the page, which took the 2 cores from the page measured and counted in
  // its renderer CPU. An Electron window has none of it. Playwright's own --disable-features list is
  // repeated here, since Chromium takes the last --disable-features given.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, NO_CHROMIUM_UI] });
  const sb2 = sandbox();
  const { Core } = await import(path.join(ROOT, 'dist/main/core/core.js'));
  const core = new Core({ env: sb2.env });
  for (let i = 0; i < 200; i++)
    await (
      await core.create({ name: `m${String(i).padStart(3, '0')}`, memoryMiB: 64, network: 'none' })
    ).result;
  // CPU time of the renderer processes (Chromium's own count): unlike wall time, barely moved by
  // other processes sharing the cores.
  const browserCdp = await browser.newBrowserCDPSession();
  const rendererCpu = async () =>
    (await browserCdp.send('SystemInfo.getProcessInfo')).processInfo
      .filter((p) => p.type === 'renderer')
      .reduce((sum, p) => sum + p.cpuTime, 0);
  const ways = [
    { name: 'drawn by the server', args: [] },
    { name: 'drawn by the page (--no-server-render)', args: ['--no-server-render'] },
  ];
  const figures = new Map();
  try {
    for (const way of ways) {
      const { server, url } = await serve(sb2, way.args);
      // As a user opens the printed URL a moment after: the server has read its build by then.
      await new Promise((r) => setTimeout(r, 1500));
      const f = { outside: [], list: [], fcp: [], details: [], mounted: [], cpu: [], heap: [] };
      try {
        for (let i = 0; i < runs; i++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
          await context.addInitScript(() => {
            new MutationObserver((_records, observer) => {
              const seen = (selector) => document.querySelector(selector)?.textContent?.includes('m000');
              if (window.__list === undefined && seen('[role=listbox]')) {
                window.__list = true;
                requestAnimationFrame(() => (window.__listShown = performance.now()));
              }
              if (window.__details === undefined && seen('main')) {
                window.__details = true;
                requestAnimationFrame(() => (window.__detailsShown = performance.now()));
              }
              if (window.__list && window.__details) observer.disconnect();
            }).observe(document, { childList: true, subtree: true, characterData: true });
          });
          const page = await context.newPage();
          // Nothing of Playwright's runs in the page until it has taken the window over (its locators
          // and rAF-polled waits, run in the page, took main-thread time from the page's own script):
          // one wait, polled every 250 ms. The outside measure has loads of its own, below.
          const cpu0 = await rendererCpu();
          await page.goto(url, { waitUntil: 'commit' });
          await page.waitForFunction(
            () =>
              window.__listShown !== undefined &&
              window.__detailsShown !== undefined &&
              performance.getEntriesByName('vmdesk-mounted').length > 0,
            null,
            { polling: 250 },
          );
          f.cpu.push(((await rendererCpu()) - cpu0) * 1000);
          const t = await page.evaluate(() => ({
            list: window.__listShown,
            details: window.__detailsShown,
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
            mounted: performance.getEntriesByName('vmdesk-mounted')[0].startTime,
          }));
          for (const k of ['list', 'details', 'fcp', 'mounted']) f[k].push(t[k]);
          const cdp = await context.newCDPSession(page);
          await cdp.send('Performance.enable');
          await cdp.send('HeapProfiler.collectGarbage');
          const { metrics } = await cdp.send('Performance.getMetrics');
          f.heap.push((metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 2 ** 20);
          await context.close();
        }
        for (let i = 0; i < runs; i++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
          const page = await context.newPage();
          const t0 = performance.now();
          await page.goto(url, { waitUntil: 'commit' });
          await page.getByRole('option', { name: /^m000, / }).waitFor();
          f.outside.push(performance.now() - t0);
          await context.close();
        }
      } finally {
        server.kill('SIGTERM');
      }
      figures.set(way.name, f);
    }
  } finally {
    await browser.close();
    sb2.cleanup();
  }
  const row = (label, pick) =>
    `| main window, 200 machines: ${label} (median of ${runs}) | ${ways.map((w) => pick(figures.get(w.name))).join(' | ')} |`;
  const spread = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
  const table = [
    '',
    `| main window | ${ways.map((w) => w.name).join(' | ')} |`,
    `| --- | ${ways.map(() => '---').join(' | ')} |`,
    row('in the page, navigation start → the frame painting the list (m000 in it; min–max)', (f) => spread(f.list)),
    row('first contentful paint', (f) => fmt(median(f.fcp))),
    row('navigation → Playwright sees m000 in the list (loads of their own)', (f) => fmt(median(f.outside))),
    row("navigation start → the frame painting the first machine's details", (f) => fmt(median(f.details))),
    row("navigation start → the page's script has taken the window over (answers clicks)", (f) => fmt(median(f.mounted))),
    row('renderer CPU time until the window is taken over and its details painted', (f) => fmt(median(f.cpu))),
    row('JS heap after GC', (f) => `${median(f.heap).toFixed(1)} MiB`),
  ];
  const { readRendererBundle, totalBytes } = await import(path.join(ROOT, 'dist/main/server/renderer-bundle.js'));
  const bundle = readRendererBundle(path.join(ROOT, 'dist/renderer'));
  const kb = (files) => `${(totalBytes(files) / 1000).toFixed(0)} kB`;
  out.push(
    `| renderer first load: JS / CSS (${bundle.initial.js.length} + ${bundle.initial.css.length} files) | ${kb(bundle.initial.js)} / ${kb(bundle.initial.css)} | — | — | — |`,
  );
  out.push(
    `| renderer whole build: JS / CSS (${bundle.all.js.length} + ${bundle.all.css.length} files) | ${kb(bundle.all.js)} / ${kb(bundle.all.css)} | — | — | — |`,
  );
  out.push(...table);
}

if (process.env.BENCH_UI_ONLY === 'render') {
  await mainWindow();
  console.log(out.join('\n'));
  process.exit(0);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const sb = sandbox();
const { server, url } = await serve(sb);
try {
  cli(sb, ['create', 'ui', '--demo']);
  cli(sb, ['start', 'ui']);
  cli(sb, ['wait', 'ui', '--text', PROMPT, '--timeout', '120']);
  const { uuid } = JSON.parse(cli(sb, ['show', 'ui', '--json']));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(echoProbe, '/console/serial/');
  const page = await context.newPage();
  await page.goto(url);
  await page.goto(`${new URL(url).origin}/#/console/${uuid}`);
  await page.getByRole('tab', { name: 'Serial' }).click();
  const rows = page.locator('[data-testid="serial-console"] .xterm-rows');
  await rows.getByText(PROMPT).first().waitFor();
  await page.evaluate(watchRows, '[data-testid="serial-console"] .xterm-rows');
  const raw = rawViewer(path.join(sb.runtime, uuid, 'console.sock'));
  // The demo guest keeps its vCPU busy for ~20 s after its prompt: measured once it has settled.
  await new Promise((r) => setTimeout(r, 20_000));

  // 1. Throughput: the guest prints 5 MB (5000 lines of 1000 characters), then a marker.
  const through = [];
  // The guest's 16550 UART under TCG moves ~20 KB/s: one run of 5 MB takes minutes.
  for (let run = 0; run < (process.env.BENCH_UI_ONLY === 'echo' ? 0 : 1); run++) {
    const marker = `END${run}-${Date.now() % 100000}`;
    await page.evaluate((m) => window.__arm(m), marker);
    const from = raw.length();
    const t0 = performance.now() + performance.timeOrigin;
    const typed = `i=0; l=$(printf '%01000d' 0); while [ $i -lt 5000 ]; do echo $l; i=$((i+1)); done; echo ${marker.slice(0, 3)}''${marker.slice(3)}\r`;
    raw.socket.write(typed);
    const tRaw = (await raw.when(marker, from)) + performance.timeOrigin - t0;
    const tUi = (await page.evaluate(async () => (await window.__armed) + performance.timeOrigin)) - t0;
    through.push({ raw: tRaw, ui: tUi });
  }
  const rawMs = median(through.map((x) => x.raw));
  const uiMs = median(through.map((x) => x.ui));
  if (through.length > 0)
    out.push(
      `| serial 5 MB, guest → screen | ${fmt(uiMs)} (${(5 / (uiMs / 1000)).toFixed(2)} MB/s) | ${fmt(rawMs)} (${(5 / (rawMs / 1000)).toFixed(2)} MB/s) | ${(rawMs / uiMs).toFixed(3)} | ≥ 0.9 |`,
    );

  // 2. Keystroke → echo, one key at a time as a user types (`#k<i>` typed first, untimed, then one timed
  // key): from the key's event (its timestamp, on the page's clock) to the echo arriving in the page
  // (the serial WebSocket's message) and to the frame that draws it (xterm.js changes its rows in an
  // animation frame: the frame that paints them). Nothing polls the page while a key is timed (a
  // polling wait would run the page's frames for it): the bench awaits a promise that a
  // MutationObserver resolves. Turn about with it, two references on the same console socket:
  // - raw: one byte written to console.sock by this process, until its echo is read back;
  // - a bare page (the floor of any web UI, VMDesk or not): the same key in a page of a few lines,
  //   its byte sent over a WebSocket to a relay of a few lines (WebSocket ↔ console.sock, in this
  //   process), the echo appended to a <pre> in the next animation frame as xterm.js does.
  const keys = Number(process.env.BENCH_UI_KEYS ?? 30);
  const floor = await barePage(browser, path.join(sb.runtime, uuid, 'console.sock'));
  await page.locator('[data-testid="serial-console"] textarea').focus();
  const vmdesk = { drawn: [], received: [] };
  const bare = { drawn: [], received: [] };
  const rawLat = [];
  for (let i = 0; i < keys; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const t = await timeKey(page, `#k${i}`, ch);
    vmdesk.drawn.push(t.drawn);
    vmdesk.received.push(t.received);
    await page.keyboard.press('Control+U');
    await settle();
    const b = await timeKey(floor.page, `#b${i}`, ch);
    bare.drawn.push(b.drawn);
    bare.received.push(b.received);
    await floor.page.keyboard.press('Control+U');
    await settle();
    const from = raw.length();
    const r0 = performance.now();
    raw.socket.write(ch);
    rawLat.push((await raw.when(ch, from)) - r0);
    raw.socket.write('\x15');
    // Let the guest finish redrawing its line before the next measure.
    await settle();
  }
  await floor.close();
  const rawEcho = median(rawLat);
  const [vd, vr, bd, br] = [vmdesk.drawn, vmdesk.received, bare.drawn, bare.received].map(median);
  out.push(
    `| keystroke → echo drawn (key event → the frame with the echo; median of ${keys}) | ${fmt(vd)} | ${fmt(rawEcho)} | ${(vd / rawEcho).toFixed(2)} | ≤ 2 |`,
    `| keystroke → echo in the page (key event → WebSocket message; median of ${keys}) | ${fmt(vr)} | ${fmt(rawEcho)} | ${(vr / rawEcho).toFixed(2)} | — |`,
    `| the same in a bare page (a <pre>, a WebSocket, a relay of a few lines): echo drawn / in the page | ${fmt(bd)} / ${fmt(br)} | ${fmt(rawEcho)} | ${(bd / rawEcho).toFixed(2)} / ${(br / rawEcho).toFixed(2)} | — |`,
    `| VMDesk against the bare page: echo drawn / in the page | ${fmt(vd)} / ${fmt(vr)} | bare page: ${fmt(bd)} / ${fmt(br)} | ${(vd / bd).toFixed(2)} / ${(vr / br).toFixed(2)} | — |`,
  );
  raw.socket.destroy();
  cli(sb, ['stop', 'ui', '--force']);
} finally {
  server.kill('SIGTERM');
}

await browser.close();
sb.cleanup();
// 3. The main window with 200 machines in the library (in a browser of its own).
if (process.env.BENCH_UI_ONLY !== 'echo') await mainWindow();
console.log(out.join('\n'));
