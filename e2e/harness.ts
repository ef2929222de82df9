/**
 * e2e harness: a throw-away library, `vmdesk serve` on a free loopback port (the URL with its token
 * parsed from its one line of output), and Debian's Chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { CLI, makeSandbox, ok, type Sandbox } from '../src-main/integration/harness.js';

export { ok, vmdesk, pngHasContent, eventually, listMachineDirs } from '../src-main/integration/harness.js';

export const CHROMIUM = process.env.VMDESK_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Served {
  sb: Sandbox;
  /** http://127.0.0.1:PORT/?token=… as printed by `vmdesk serve` */
  url: string;
  origin: string;
  token: string;
  server: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `vmdesk serve --port 0` on a new sandbox library (or the given one). */
export async function serve(sb: Sandbox = makeSandbox(), extraArgs: string[] = []): Promise<Served> {
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...extraArgs], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout.on('data', (d: Buffer) => (out += d.toString()));
  server.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmdesk serve printed no URL:\n${out}`)), 20_000);
    const check = (): void => {
      const m = /VMDesk is serving on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    server.stdout.on('data', check);
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vmdesk serve exited ${code}:\n${out}`));
    });
  });
  const parsed = new URL(url);
  return {
    sb,
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    server,
    output: () => out,
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Records a page's uncaught exceptions and console errors (CSP violations are console errors). */
function watchProblems(page: Page): void {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium aborts requests in flight when a network interface comes or goes (a test host's veth
    // pair, here): the host's doing, not the page's; the UI retries what it polls.
    if (msg.type() === 'error' && !msg.text().includes('net::ERR_NETWORK_CHANGED')) problems.push(`console: ${msg.text()}`);
  });
  (page as Page & { problems?: string[] }).problems = problems;
}

/**
 * A page logged in to the served UI (the token URL: the page keeps the token, drops it from the address bar; a page-key cookie serves the files).
 * `options` add to the context's (the accessibility test's bypassCSP, to inject axe-core).
 */
export async function openUi(
  browser: Browser,
  served: Served,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  // Every page of the context, console windows included, is watched.
  context.on('page', watchProblems);
  const page = await context.newPage();
  await page.goto(served.url);
  return { context, page };
}

/** Errors the page logged (uncaught exceptions, console errors such as CSP violations). */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** The take-down of a served UI and its browser: the machines named in `running` forced off, then the server stopped. */
export async function stopServed(browser: Browser | undefined, served: Served | undefined, running: string[]): Promise<void> {
  await browser?.close();
  if (!served) return;
  for (const name of running) await ok(served.sb, ['stop', name, '--force']).catch(() => undefined);
  await served.stop();
}
