// The UI end to end (vmdesk serve + Debian's Chromium): serial console throughput and keystroke
// echo latency through the xterm vs a raw reader of the same console socket, and the main window
// with 200 machines (first render, JS heap).
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CLI, ROOT, cli, fmt, machineInfo, median, sandbox } from './lib.mjs';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const PROMPT = 'vmdesk-demo# ';
const out = [
  `ui (${machineInfo()})`,
  '| measure | through the UI | raw console socket | ratio | goal |',
  '| --- | --- | --- | --- | --- |',
];

async function serve(sb) {
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: sb.env, stdio: ['ignore', 'pipe', 'inherit'] });
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

const sb = sandbox();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const { server, url } = await serve(sb);
try {
  cli(sb, ['create', 'ui', '--demo']);
  cli(sb, ['start', 'ui']);
  cli(sb, ['wait', 'ui', '--text', PROMPT, '--timeout', '120']);
  const { uuid } = JSON.parse(cli(sb, ['show', 'ui', '--json']));
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(url);
  await page.goto(`${new URL(url).origin}/#/console/${uuid}`);
  await page.getByRole('tab', { name: 'Serial' }).click();
  const rows = page.locator('[data-testid="serial-console"] .xterm-rows');
  await rows.getByText(PROMPT).first().waitFor();
  // Record, in the page, when a marker first appears in the terminal's rows.
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="serial-console"] .xterm-rows');
    window.__seen = {};
    new MutationObserver(() => {
      const t = el.textContent ?? '';
      for (const m of window.__want ?? [])
        if (!window.__seen[m] && t.includes(m)) window.__seen[m] = performance.now() + performance.timeOrigin;
    }).observe(el, { childList: true, subtree: true, characterData: true });
  });
  const raw = rawViewer(path.join(sb.runtime, uuid, 'console.sock'));
  await new Promise((r) => setTimeout(r, 500));

  // 1. Throughput: the guest prints 5 MB (5000 lines of 1000 characters), then a marker.
  const through = [];
  // The guest's 16550 UART under TCG moves ~20 KB/s: one run of 5 MB takes minutes.
  for (let run = 0; run < 1; run++) {
    const marker = `END${run}-${Date.now() % 100000}`;
    await page.evaluate((m) => (window.__want = [m]), marker);
    const from = raw.length();
    const t0 = performance.now() + performance.timeOrigin;
    const typed = `i=0; l=$(printf '%01000d' 0); while [ $i -lt 5000 ]; do echo $l; i=$((i+1)); done; echo ${marker.slice(0, 3)}''${marker.slice(3)}\r`;
    raw.socket.write(typed);
    const tRaw = (await raw.when(marker, from)) + performance.timeOrigin - t0;
    await page.waitForFunction((m) => window.__seen[m] !== undefined, marker, { timeout: 600_000, polling: 100 });
    const tUi = (await page.evaluate((m) => window.__seen[m], marker)) - t0;
    through.push({ raw: tRaw, ui: tUi });
  }
  const rawMs = median(through.map((x) => x.raw));
  const uiMs = median(through.map((x) => x.ui));
  out.push(
    `| serial 5 MB, guest → screen | ${fmt(uiMs)} (${(5 / (uiMs / 1000)).toFixed(2)} MB/s) | ${fmt(rawMs)} (${(5 / (rawMs / 1000)).toFixed(2)} MB/s) | ${(rawMs / uiMs).toFixed(3)} | ≥ 0.9 |`,
  );

  // 2. Keystroke → echo: one character typed in the xterm vs written to the raw socket.
  const uiLat = [];
  const rawLat = [];
  await page.locator('[data-testid="serial-console"] textarea').focus();
  for (let i = 0; i < 20; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    const marker = `#k${i}${ch}`;
    await page.evaluate((m) => (window.__want = [m]), marker);
    const t0 = performance.now() + performance.timeOrigin;
    await page.keyboard.type(marker);
    await page.waitForFunction((m) => window.__seen[m] !== undefined, marker, { polling: 'raf' });
    uiLat.push((await page.evaluate((m) => window.__seen[m], marker)) - t0);
    await page.keyboard.press('Control+U');
    await new Promise((r) => setTimeout(r, 300));
    const from = raw.length();
    const r0 = performance.now();
    raw.socket.write(`#r${i}`);
    rawLat.push((await raw.when(`#r${i}`, from)) - r0);
    raw.socket.write('\x15');
    // Let the guest finish redrawing its line before the next measure.
    await new Promise((r) => setTimeout(r, 300));
  }
  out.push(
    `| keystroke → echo (median of 20) | ${fmt(median(uiLat))} | ${fmt(median(rawLat))} | ${(median(rawLat) / median(uiLat)).toFixed(3)} | — |`,
  );
  raw.socket.destroy();
  cli(sb, ['stop', 'ui', '--force']);
} finally {
  server.kill('SIGTERM');
}

// 3. The main window with 200 machines in the library.
{
  const sb2 = sandbox();
  const { Core } = await import(path.join(ROOT, 'dist/main/core/core.js'));
  const core = new Core({ env: sb2.env });
  for (let i = 0; i < 200; i++)
    await (
      await core.create({ name: `m${String(i).padStart(3, '0')}`, memoryMiB: 64, network: 'none' })
    ).result;
  const { server: s2, url: url2 } = await serve(sb2);
  try {
    const renders = [];
    const heaps = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(url2);
      await page.getByText('m199').first().waitFor();
      renders.push(performance.now() - t0);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      heaps.push((metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 2 ** 20);
      await context.close();
    }
    out.push(`| main window, 200 machines: navigation → last machine shown (median of 5) | ${fmt(median(renders))} | — | — | — |`);
    out.push(`| main window, 200 machines: JS heap after GC | ${median(heaps).toFixed(1)} MiB | — | — | — |`);
  } finally {
    s2.kill('SIGTERM');
    sb2.cleanup();
  }
}
await browser.close();
sb.cleanup();
console.log(out.join('\n'));
