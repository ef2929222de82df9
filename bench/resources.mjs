// Resource management (issue 11), four figures:
//   1. memory returned to the host per second when a balloon inflates: `vmdesk memory NAME --target`
//      against the same QMP command (`balloon`) sent by hand to the same QEMU argv started by hand;
//   2. KSM page sharing with 4 identical demo guests: memory saved as a share of their RAM, next to
//      the ESX paper's figure for identical guests (Waldspurger, OSDI 2002, §4.3 and Figure 4);
//   3. CPU cap accuracy: a busy guest capped at 25, 50 and 75 % of a core, measured from /proc/PID/stat;
//   4. what collecting costs, with 10 running machines: the sampler of `vmdesk serve` while a client
//      asks for every machine's figures and the host's each second, and the host memory policy process
//      — each in % of one core (goal < 0.5 %).
// Root only (cgroups, KSM). Everything made (QEMUs, agents, the server, the policy, folders) is taken
// down at the end, and the host's KSM settings put back, also on failure and on Ctrl-C.
// BENCH_RESOURCES_PARTS=balloon,ksm,cap,cost chooses parts; BENCH_RESOURCES_RUNS (3) the balloon runs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { CLI, machineInfo, median, sandbox } from './lib.mjs';
import { Console, Qmp, connectUnix, openSockets } from './qemu-lib.mjs';

const PARTS = (process.env.BENCH_RESOURCES_PARTS ?? 'balloon,ksm,cap,cost').split(',');
const RUNS = Number(process.env.BENCH_RESOURCES_RUNS ?? 3);
const PROMPT = 'vmdesk-demo# ';
const KSM = '/sys/kernel/mm/ksm';
const KSM_KNOBS = ['run', 'pages_to_scan', 'sleep_millisecs'];
const MiB = 1024 * 1024;
const TICKS = 100; // CLK_TCK on Linux/x86-64
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const made = { sb: null, children: [], hand: '', ksm: null };

function vmdesk(args, { ok = true } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: made.sb.env, encoding: 'utf8', timeout: 180_000 });
  if (ok && r.status !== 0) throw new Error(`vmdesk ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

function readKsm() {
  return Object.fromEntries(KSM_KNOBS.map((k) => [k, fs.readFileSync(path.join(KSM, k), 'utf8').trim()]));
}

function ksmNumber(name) {
  try {
    return Number(fs.readFileSync(path.join(KSM, name), 'utf8').trim());
  } catch {
    return null;
  }
}

function restoreKsm() {
  if (!made.ksm) return;
  // run last: the scan rate is back before KSM is (re)started or stopped.
  for (const k of [...KSM_KNOBS.filter((x) => x !== 'run'), 'run']) {
    try {
      fs.writeFileSync(path.join(KSM, k), made.ksm[k]);
    } catch (err) {
      process.stderr.write(`could not restore ${KSM}/${k}: ${err.message}\n`);
    }
  }
}

async function cleanup() {
  for (const s of openSockets) s.destroy();
  for (const child of made.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (made.sb) {
    spawnSync(process.execPath, [CLI, 'memory-policy', 'off'], { env: made.sb.env, timeout: 30_000 });
    const policyPid = path.join(made.sb.runtime, 'policy');
    for (const f of fs.existsSync(policyPid) ? fs.readdirSync(policyPid).filter((x) => x.endsWith('.pid')) : []) {
      try {
        process.kill(Number(fs.readFileSync(path.join(policyPid, f), 'utf8')), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    made.sb.cleanup();
  }
  if (made.hand) fs.rmSync(made.hand, { recursive: true, force: true });
  restoreKsm();
}

for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    void cleanup().then(() => process.exit(130));
  });

/** utime + stime of a process (all its threads), in seconds. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** % of one core a process used over `ms`. */
async function cpuPercentOver(pid, ms) {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(ms);
  return ((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
}

async function startGuest(name, memory, extra = []) {
  vmdesk(['create', name, '--demo', '--memory', String(memory)]);
  for (const args of extra) vmdesk(['modify', name, ...args]);
  vmdesk(['start', name]);
  const shown = JSON.parse(vmdesk(['show', name, '--json']).stdout);
  const runtimeDir = path.join(made.sb.runtime, shown.uuid);
  const pid = Number(fs.readFileSync(path.join(runtimeDir, 'qemu.pid'), 'utf8'));
  const console_ = new Console(await connectUnix(path.join(runtimeDir, 'console.sock')));
  return { name, uuid: shown.uuid, dir: shown.dir, runtimeDir, pid, console: console_ };
}

async function ready(guest) {
  await guest.console.when(PROMPT);
  // The prompt shows once init is done; a fresh prompt after Enter means the shell reads input.
  const shown = guest.console.count(PROMPT);
  guest.console.type('');
  await guest.console.when(PROMPT, shown + 1);
}

/** Type a command and wait until the guest prints `marker` on a line of its own. */
async function guestRun(guest, command, marker, timeoutMs = 120_000) {
  const before = guest.console.count(`\n${marker}`);
  guest.console.type(`${command}; echo; echo ${marker}`);
  await guest.console.when(`\n${marker}`, before + 1, timeoutMs);
}

/** Touch `mib` MiB of the guest's memory and free it again: the host keeps the pages (no free page reporting). */
async function touchMemory(guest, mib) {
  await guestRun(
    guest,
    `mkdir -p /mnt/t && mount -t tmpfs -o size=${mib + 32}m tmpfs /mnt/t && dd if=/dev/zero of=/mnt/t/f bs=1M count=${mib} 2>/dev/null; rm -f /mnt/t/f; umount /mnt/t`,
    'TOUCHED',
  );
}

/**
 * Poll the RSS (from `startRss`, read before the command) until it has stopped falling for 400 ms;
 * the time it reached within 2 % of its final drop.
 */
async function rssFall(pid, t0, startRss, timeoutMs = 30_000) {
  const samples = [{ at: t0, rss: startRss }];
  let last = startRss;
  let stableSince = performance.now();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(5);
    const now = performance.now();
    const rss = rssMiB(pid);
    samples.push({ at: now, rss });
    if (rss < last - 1) {
      last = rss;
      stableSince = now;
    } else if (now - stableSince > 400 && samples.length > 10) break;
  }
  const start = samples[0]?.rss ?? last;
  const final = samples.at(-1)?.rss ?? last;
  const drop = start - final;
  const reached = samples.find((s) => start - s.rss >= drop * 0.98) ?? samples.at(-1);
  return { drop, seconds: (reached.at - t0) / 1000 };
}

// ---- 1. balloon ------------------------------------------------------------------------------------

async function benchBalloon() {
  const rows = [];
  const TOUCH = 400;
  const TARGET = 128;
  for (let run = 1; run <= RUNS; run++) {
    // VMDesk
    const g = await startGuest(`bal${run}`, 512, [['--memory-min', String(TARGET)]]);
    await ready(g);
    await touchMemory(g, TOUCH);
    const before = rssMiB(g.pid);
    let t0 = performance.now();
    // The command runs while the RSS is watched: it waits (up to 3 s) for the guest to get there.
    const command = spawn(process.execPath, [CLI, 'memory', g.name, '--target', String(TARGET)], { env: made.sb.env, stdio: 'ignore' });
    const commandDone = new Promise((resolve) => command.once('exit', (code) => resolve({ code, at: performance.now() })));
    const v = await rssFall(g.pid, t0, before);
    const { code, at: cliDone } = await commandDone;
    if (code !== 0) throw new Error(`vmdesk memory ${g.name} --target ${TARGET} exited ${code}`);
    // The same argv by hand: its own folder and runtime dir, QMP straight to QEMU.
    const argv = fs.readFileSync(`/proc/${g.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    const template = path.join(made.hand, `bal${run}`);
    fs.mkdirSync(path.join(template, 'rt'), { recursive: true });
    fs.cpSync(g.dir, path.join(template, 'm'), { recursive: true, filter: (src) => !/\.lock$|\/logs\//.test(src) });
    fs.mkdirSync(path.join(template, 'm', 'logs'), { recursive: true });
    vmdesk(['stop', g.name, '--force']);
    const [binary, ...args] = argv.map((a) => a.split(g.runtimeDir).join(`${template}/rt`).split(g.dir).join(`${template}/m`));
    const log = fs.openSync(path.join(template, 'qemu.log'), 'a');
    const child = spawn(binary, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    made.children.push(child);
    const qmp = await Qmp.connect(path.join(template, 'rt', 'qmp.sock'));
    const hand = { console: new Console(await connectUnix(path.join(template, 'rt', 'serial.sock'))), pid: child.pid };
    await qmp.cmd('cont');
    await ready(hand);
    await touchMemory(hand, TOUCH);
    const handBefore = rssMiB(child.pid);
    t0 = performance.now();
    await qmp.cmd('balloon', { value: TARGET * MiB });
    const h = await rssFall(child.pid, t0, handBefore);
    await qmp.cmd('quit').catch(() => undefined);
    qmp.close();
    hand.console.close();
    g.console.close();
    vmdesk(['delete', g.name]);
    rows.push({
      vmdesk: { before, drop: v.drop, seconds: v.seconds, rate: v.drop / v.seconds, cli: (cliDone - t0) / 1000 },
      hand: { before: handBefore, drop: h.drop, seconds: h.seconds, rate: h.drop / h.seconds },
    });
    process.stdout.write(
      `balloon run ${run}: VMDesk ${v.drop.toFixed(0)} MiB in ${v.seconds.toFixed(2)} s; by hand ${h.drop.toFixed(0)} MiB in ${h.seconds.toFixed(2)} s\n`,
    );
  }
  const med = (f) => median(rows.map(f));
  console.log(`\n### Balloon: a 512 MiB demo guest that touched ${TOUCH} MiB and freed it, set to ${TARGET} MiB (medians of ${RUNS})\n`);
  console.log('| way | QEMU RSS before | returned to the host | time until returned | MiB/s | ratio |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const vr = med((r) => r.vmdesk.rate);
  const hr = med((r) => r.hand.rate);
  console.log(
    `| VMDesk (\`vmdesk memory --target\`, Node's start included) | ${med((r) => r.vmdesk.before).toFixed(0)} MiB | ${med((r) => r.vmdesk.drop).toFixed(0)} MiB | ${med((r) => r.vmdesk.seconds).toFixed(2)} s | ${vr.toFixed(0)} | ${(hr / vr).toFixed(2)}× slower |`,
  );
  console.log(
    `| by hand (QMP \`balloon\` to the same argv) | ${med((r) => r.hand.before).toFixed(0)} MiB | ${med((r) => r.hand.drop).toFixed(0)} MiB | ${med((r) => r.hand.seconds).toFixed(2)} s | ${hr.toFixed(0)} | 1 |`,
  );
}

// ---- 2. KSM ----------------------------------------------------------------------------------------

async function benchKsm() {
  const N = 4;
  const MEM = 128;
  const guests = [];
  for (let i = 0; i < N; i++) guests.push(await startGuest(`ksm${i}`, MEM));
  await Promise.all(guests.map(ready));
  const rssBefore = guests.reduce((n, g) => n + rssMiB(g.pid), 0);
  const t0 = performance.now();
  vmdesk(['ksm', 'on', '--pages-to-scan', '5000', '--sleep-ms', '10']);
  let last = -1;
  let stable = 0;
  const page = 4096;
  for (let i = 0; i < 90 && stable < 3; i++) {
    await sleep(2000);
    const sharing = ksmNumber('pages_sharing') ?? 0;
    stable = Math.abs(sharing - last) <= Math.max(16, sharing * 0.01) ? stable + 1 : 0;
    last = sharing;
  }
  const seconds = (performance.now() - t0) / 1000;
  const sharing = ksmNumber('pages_sharing') ?? 0;
  const zero = ksmNumber('ksm_zero_pages') ?? 0;
  const profit = ksmNumber('general_profit');
  const saved = ((sharing + zero) * page) / MiB;
  const perMachine = guests.map((g) => Number(fs.readFileSync(`/proc/${g.pid}/ksm_merging_pages`, 'utf8')));
  const rssAfter = guests.reduce((n, g) => n + rssMiB(g.pid), 0);
  const json = JSON.parse(vmdesk(['ksm', '--json']).stdout);
  vmdesk(['ksm', 'off']);
  const restored = JSON.stringify(readKsm()) === JSON.stringify(made.ksm);
  for (const g of guests) {
    g.console.close();
    vmdesk(['stop', g.name, '--force']);
  }
  console.log(`\n### Page sharing: ${N} identical ${MEM} MiB demo guests, KSM on (pages_to_scan 5000, sleep 10 ms)\n`);
  console.log('| figure | VMDesk here | ESX (Waldspurger 2002, identical Linux VMs) |');
  console.log('| --- | --- | --- |');
  console.log(
    `| memory saved: (pages_sharing + ksm_zero_pages) × 4 KiB | ${saved.toFixed(0)} MiB = ${((saved / (N * MEM)) * 100).toFixed(0)} % of the guests' ${N * MEM} MiB | "for large numbers of VMs, sharing approaches 67 %, and nearly 60 % of all VM memory is reclaimed" (§4.3, Figure 4: 1–10 VMs) |`,
  );
  console.log(`| the kernel's general_profit | ${profit === null ? '—' : `${(profit / MiB).toFixed(0)} MiB`} | — |`);
  console.log(`| merging pages per machine | ${perMachine.join(', ')} | — |`);
  console.log(`| QEMU RSS of the ${N}, before → after | ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB | — |`);
  console.log(`| until stable | ${seconds.toFixed(0)} s | — |`);
  console.log(`| \`vmdesk ksm --json\` said saved | ${json.savedBytes === null ? '—' : `${(json.savedBytes / MiB).toFixed(0)} MiB`} | — |`);
  console.log(`| host settings restored by \`vmdesk ksm off\` | ${restored ? 'yes' : `NO: ${JSON.stringify(readKsm())}`} | — |`);
}

// ---- 3. CPU cap --------------------------------------------------------------------------------------

async function benchCap() {
  const g = await startGuest('cap', 128);
  await ready(g);
  g.console.type('while :; do :; done &');
  await sleep(2000);
  const uncapped = await cpuPercentOver(g.pid, 5000);
  const rows = [];
  for (const cap of [25, 50, 75]) {
    vmdesk(['modify', g.name, '--cpu-cap', String(cap)]);
    await sleep(1000);
    rows.push({ cap, used: await cpuPercentOver(g.pid, 10_000) });
  }
  vmdesk(['modify', g.name, '--cpu-cap', 'off']);
  g.console.close();
  vmdesk(['stop', g.name, '--force']);
  console.log(`\n### CPU cap: a busy 1-vCPU demo guest (uncapped it uses ${uncapped.toFixed(0)} % of a core), 10 s per cap\n`);
  console.log('| cap | used (QEMU, /proc/PID/stat) | error |');
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.cap} % | ${r.used.toFixed(1)} % | ${(r.used - r.cap).toFixed(1)} points |`);
}

// ---- 4. the cost of collecting ------------------------------------------------------------------------

async function benchCost() {
  const N = 10;
  const guests = [];
  for (let i = 0; i < N; i++) guests.push(await startGuest(`c${i}`, 128));
  await Promise.all(guests.map(ready));
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: made.sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  made.children.push(server);
  const line = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out);
    });
    server.once('exit', (code) => reject(new Error(`vmdesk serve exited ${code}`)));
  });
  const url = new URL(/https?:\/\/\S+/.exec(line)[0]);
  const ws = new WebSocket(`ws://${url.host}/api?token=${url.searchParams.get('token')}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if ('id' in m && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  const call = (method, args) =>
    new Promise((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, args }));
    });
  await sleep(3000);
  const idle = await cpuPercentOver(server.pid, 20_000);
  let answered = 0;
  let failed = '';
  const poll = setInterval(() => {
    for (const g of guests)
      void call('machineStats', [g.uuid]).then((m) => {
        if (m.error) failed = m.error.message;
        else answered++;
      });
    void call('hostStats', []);
  }, 1000);
  await sleep(3000);
  const busy = await cpuPercentOver(server.pid, 30_000);
  clearInterval(poll);
  ws.close();
  server.kill('SIGTERM');

  vmdesk(['memory-policy', 'on', '--target', '99']);
  await sleep(5000);
  const status = JSON.parse(vmdesk(['memory-policy', '--json']).stdout);
  const policy = status.pid ? await cpuPercentOver(status.pid, 30_000) : null;
  vmdesk(['memory-policy', 'off']);
  for (const g of guests) {
    g.console.close();
    vmdesk(['stop', g.name, '--force']);
  }
  console.log(`\n### The cost of collecting, with ${N} running 128 MiB demo guests (% of one core, over 30 s)\n`);
  console.log('| process | CPU | goal |');
  console.log('| --- | --- | --- |');
  console.log(
    `| \`vmdesk serve\`, nobody asking for figures (sampler stopped) | ${idle.toFixed(2)} % | — |\n| \`vmdesk serve\`, a client asking for all ${N} machines' figures and the host's every second (${answered} answers${failed ? `; failures: ${failed}` : ''}) | ${busy.toFixed(2)} % (sampler: ${(busy - idle).toFixed(2)} %) | < 0.5 % |`,
  );
  console.log(
    `| the host memory policy process (target 99 %: watching, nothing to do) | ${policy === null ? 'not running' : `${policy.toFixed(2)} %`} | < 0.5 % |`,
  );
}

async function main() {
  if (process.getuid?.() !== 0) {
    console.log('resources.mjs: skipped (needs root: cgroups and KSM)');
    return;
  }
  if (!fs.existsSync(KSM) && PARTS.includes('ksm')) throw new Error(`${KSM} is missing: this kernel has no KSM`);
  made.ksm = fs.existsSync(KSM) ? readKsm() : null;
  made.sb = sandbox();
  made.hand = fs.mkdtempSync('/tmp/vmres-');
  console.log(`resources (${machineInfo()}, load average ${os.loadavg()[0].toFixed(2)} at start; ${new Date().toISOString()})`);
  try {
    if (PARTS.includes('balloon')) await benchBalloon();
    if (PARTS.includes('ksm')) await benchKsm();
    if (PARTS.includes('cap')) await benchCap();
    if (PARTS.includes('cost')) await benchCost();
    console.log(`\n(load average ${os.loadavg()[0].toFixed(2)} at the end)`);
  } finally {
    await cleanup();
  }
}

await main();
