// Remote hosts over SSH (issue 9): a remote host's operations through `vmdesk serve` (one SSH
// connection, kept open) against the same operations run by hand over plain `ssh HOST vmdesk …`:
// list with 50 machines, start of the demo guest, and keystroke echo in its serial console against a
// local console plus the link's own round trip.
//
// The remote host is real: OpenSSH's sshd in a network namespace of its own, reached over a veth
// pair with its own address, host key and authorized key, and a library of its own (ssh-lab.mjs). Root
// only (a namespace, a veth pair, sshd). Everything made is taken down at the end, also on failure.
// Sizes by env: BENCH_KEYSTROKES (50), BENCH_START_RUNS (3); BENCH_REMOTE_JSON=FILE keeps the echo samples.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { CLI, ROOT, fmt, machineInfo, median, sandbox } from './lib.mjs';
import { ALIAS, SshLab, hostsAddArgs, labUnavailable, shellQuote } from './ssh-lab.mjs';

const PROMPT = 'vmdesk-demo# ';
const LIST_MACHINES = 50;
const KEYSTROKES = Number(process.env.BENCH_KEYSTROKES ?? 50);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 3);
// Typed into the consoles: none of them is in the prompt, whose redraw after ^U must not count as an echo.
const KEYS = 'abcfghijlnpqrtuwxyz';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function p95(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(s.length * 0.95) - 1)];
}

/** Runs a program to its end; resolves with its output and the wall time from spawn to exit. */
function timed(cmd, args, env, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ stdout, stderr, ms });
    });
  });
}

const lab = new SshLab('remote.mjs', { netnsPrefix: 'vmd', slotOffset: 7 });

/** `vmdesk serve` on a free loopback port; its URL once printed. */
async function serve(env) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  lab.children.push(child);
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmdesk serve printed no URL:\n${output}`)), 30_000);
    const onData = (d) => {
      output += d;
      const m = /VMDesk is serving on (http:\/\/\S+)\n/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`vmdesk serve exited ${code}:\n${output}`)));
  });
  return { child, url };
}

/** The /api WebSocket: calls (optionally on a host) and every event, with their arrival times. */
async function openApi(url) {
  const ws = new WebSocket(`ws://${url.host}/api?token=${url.searchParams.get('token')}`, { origin: url.origin });
  const pending = new Map();
  const events = [];
  const waiters = new Set();
  ws.on('message', (data) => {
    const at = performance.now();
    const message = JSON.parse(data.toString());
    if (typeof message.id === 'number') {
      pending.get(message.id)?.({ ...message, at });
      pending.delete(message.id);
    } else if (typeof message.event === 'string') {
      const event = { ...message, at };
      events.push(event);
      for (const w of [...waiters]) w(event);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const callOn = (host, method, ...args) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, args, ...(host ? { host } : {}) }));
    });
  return {
    callOn,
    events,
    /** The first event from index `from` on that `accept` takes. */
    waitEvent(accept, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const seen = events.slice(from).find(accept);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such event within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (e) => {
          if (!accept(e)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(e);
        };
        waiters.add(check);
      });
    },
    close: () => ws.close(),
  };
}

function ok(reply, what) {
  if (reply.error) throw new Error(`${what}: ${reply.error.code} ${reply.error.message}`);
  return reply.result;
}

/** A serial console WebSocket through serve; waits for a text after an offset. */
function openConsole(url, uuid, host) {
  const prefix = host ? `/host/${host}` : '';
  const ws = new WebSocket(`ws://${url.host}${prefix}/console/serial/${uuid}?token=${url.searchParams.get('token')}`, {
    origin: url.origin,
  });
  let text = '';
  const waiters = [];
  ws.on('message', (d) => {
    text += d.toString('latin1');
    const at = performance.now();
    for (const w of [...waiters]) {
      if (text.indexOf(w.needle, w.from) !== -1) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(at);
      }
    }
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`console closed ${code} ${reason}`)));
  });
  return {
    ws,
    opened,
    length: () => text.length,
    when(needle, from, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        if (text.indexOf(needle, from) !== -1) return resolve(performance.now());
        const w = { needle, from, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${JSON.stringify(needle)} on the console within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
  };
}

/** One keystroke: the time from sending `ch` until the guest's echo of it arrives. */
async function keystroke(consoleWs, ch) {
  const from = consoleWs.length();
  const t0 = performance.now();
  consoleWs.ws.send(ch);
  return (await consoleWs.when(ch, from)) - t0;
}

// ---------------------------------------------------------------------------------------------------

const unavailable = labUnavailable();
if (unavailable) {
  console.log(`remote: skipped — ${unavailable}`);
  process.exit(0);
}

const out = [
  `remote (${machineInfo()}, load average ${os.loadavg()[0].toFixed(2)} at start; remote host: sshd in a network namespace over a veth pair)`,
  '| measure | VMDesk | by hand over plain ssh (or the reference named) | ratio | goal |',
  '| --- | --- | --- | --- | --- |',
];

try {
  const host = await lab.start();
  const sb = sandbox();
  lab.sb = sb;
  const env = { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig };
  delete env.VMDESK_QEMU;
  const remoteEnv = { ...env, VMDESK_HOME: host.remoteHome, VMDESK_RUNTIME_DIR: lab.remoteRuntime };
  const remoteCli = `env VMDESK_HOME=${shellQuote(host.remoteHome)} ${host.remoteCommand}`;
  const byHand = (command) => timed('ssh', ['-F', host.sshConfig, '-o', 'BatchMode=yes', ALIAS, command], env);

  // The remote library: 49 small stopped machines (no disks) and the demo guest; the local one: a demo guest.
  const { Core } = await import(path.join(ROOT, 'dist/main/core/core.js'));
  const remoteCore = new Core({ env: remoteEnv });
  for (let i = 0; i < LIST_MACHINES - 1; i++)
    await (
      await remoteCore.create({ name: `m${String(i).padStart(2, '0')}`, memoryMiB: 64, network: 'none' })
    ).result;
  await timed(process.execPath, [CLI, 'create', 'web', '--demo', '--memory', '128'], remoteEnv, 600_000);
  await timed(process.execPath, [CLI, 'create', 'loc', '--demo', '--memory', '128'], env, 600_000);
  await timed(process.execPath, [CLI, ...hostsAddArgs(host)], env);

  const { url } = await serve(env);
  const api = await openApi(url);
  for (let deadline = Date.now() + 60_000; ; await sleep(100)) {
    const hosts = ok(await api.callOn(undefined, 'listHosts'), 'listHosts');
    if (hosts.some((h) => h.name === ALIAS && h.state === 'connected')) break;
    if (Date.now() > deadline) throw new Error(`${ALIAS} did not connect: ${JSON.stringify(hosts)}`);
  }

  // By hand with a connection already open, as serve's is: an ssh ControlMaster, then `ssh -S` through it.
  const { master, control } = await lab.controlMaster(host, env);
  const byHandOpen = (command) => timed('ssh', ['-F', host.sshConfig, '-S', control, ALIAS, command], env);
  const row = (measure, vmdesk, hand, goal = '—') =>
    out.push(`| ${measure} | ${fmt(vmdesk)} | ${fmt(hand)} | ${(vmdesk / hand).toFixed(3)} | ${goal} |`);

  // 1. List with 50 machines on the remote host.
  {
    const viaServe = [];
    for (let i = 0; i < 22; i++) {
      const t0 = performance.now();
      const reply = await api.callOn(ALIAS, 'listMachines');
      const machines = ok(reply, 'listMachines');
      if (machines.length !== LIST_MACHINES) throw new Error(`listMachines on ${ALIAS}: ${machines.length} machines`);
      if (i >= 2) viaServe.push(reply.at - t0);
    }
    const count = (stdout) => {
      const n = JSON.parse(stdout).length;
      if (n !== LIST_MACHINES) throw new Error(`list --json: ${n} machines`);
    };
    const cold = [];
    const hand = [];
    const handOpen = [];
    for (let i = 0; i < 5; i++) {
      const c = await timed(process.execPath, [CLI, '--host', ALIAS, 'list', '--json'], env);
      count(c.stdout);
      cold.push(c.ms);
      const h = await byHand(`${remoteCli} list --json`);
      count(h.stdout);
      hand.push(h.ms);
      const o = await byHandOpen(`${remoteCli} list --json`);
      count(o.stdout);
      handOpen.push(o.ms);
    }
    const n = LIST_MACHINES;
    const served = median(viaServe);
    row(
      `list, ${n} machines: \`listMachines\` through serve, connected (median of 20) vs \`ssh ${ALIAS} 'vmdesk list --json'\` (median of 5)`,
      served,
      median(hand),
      `< 300 ms once connected: ${served < 300 ? 'met' : 'missed'}`,
    );
    row(
      `list, ${n} machines: the same vs \`ssh -S\` over an already open ssh connection (ControlMaster; median of 5)`,
      served,
      median(handOpen),
    );
    row(
      `list, ${n} machines: cold \`vmdesk --host ${ALIAS} list --json\` vs \`ssh ${ALIAS} 'vmdesk list --json'\` (medians of 5)`,
      median(cold),
      median(hand),
    );
  }

  // 2. Start of the demo guest on the remote host, stopped between runs; the three ways take turns.
  {
    const machines = ok(await api.callOn(ALIAS, 'listMachines'), 'listMachines');
    const uuid = machines.find((m) => m.config.name === 'web').uuid;
    const stateIs = (state) => (e) =>
      e.host === ALIAS && e.event === 'machine-state' && e.data.uuid === uuid && e.data.status.state === state;
    const viaServe = [];
    const viaServeReply = [];
    const hand = [];
    const handOpen = [];
    for (let i = 0; i < START_RUNS; i++) {
      const from = api.events.length;
      const t0 = performance.now();
      const running = api.waitEvent(stateIs('running'), 120_000, from);
      const reply = await api.callOn(ALIAS, 'startMachine', 'web');
      ok(reply, 'startMachine');
      viaServe.push((await running).at - t0);
      viaServeReply.push(reply.at - t0);
      const stopped = api.waitEvent(stateIs('stopped'), 60_000, api.events.length);
      ok(await api.callOn(ALIAS, 'shutdownMachine', 'web', { force: true }), 'shutdownMachine');
      await stopped;
      await sleep(2000);

      for (const [how, samples] of [
        [byHand, hand],
        [byHandOpen, handOpen],
      ]) {
        const h = await how(`${remoteCli} start web`);
        if (!/web is running/.test(h.stdout)) throw new Error(`start by hand: ${h.stdout}`);
        samples.push(h.ms);
        await how(`${remoteCli} stop web --force`);
        await sleep(2000);
      }
    }
    const served = median(viaServe);
    row(
      `start the demo guest: \`startMachine\` through serve until the machine-state event says running (reply: ${fmt(median(viaServeReply))}) vs \`ssh ${ALIAS} 'vmdesk start web'\` (medians of ${START_RUNS})`,
      served,
      median(hand),
    );
    row(
      `start the demo guest: the same vs \`ssh -S\` over an already open ssh connection (medians of ${START_RUNS})`,
      served,
      median(handOpen),
    );
  }
  master.kill('SIGTERM');

  // 3. Keystroke echo: the remote console through serve vs a local console through serve vs the link's RTT.
  {
    const remoteUuid = ok(await api.callOn(ALIAS, 'listMachines'), 'listMachines').find((m) => m.config.name === 'web').uuid;
    const localUuid = ok(await api.callOn(undefined, 'listMachines'), 'listMachines').find((m) => m.config.name === 'loc').uuid;
    ok(await api.callOn(ALIAS, 'startMachine', 'web'), 'startMachine (remote)');
    ok(await api.callOn(undefined, 'startMachine', 'loc'), 'startMachine (local)');
    const remote = openConsole(url, remoteUuid, ALIAS);
    const local = openConsole(url, localUuid);
    await Promise.all([remote.opened, local.opened]);
    await Promise.all([remote.when(PROMPT, 0, 180_000), local.when(PROMPT, 0, 180_000)]);
    // The demo guest keeps its vCPU busy for ~20 s after its prompt: measure two idle guests.
    await sleep(25_000);

    // The link's own round trip: one byte through an open `ssh -T lab cat` session.
    const cat = spawn('ssh', ['-F', host.sshConfig, '-o', 'BatchMode=yes', '-T', ALIAS, 'cat'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    lab.children.push(cat);
    let echoed = 0;
    let onEcho;
    cat.stdout.on('data', (d) => {
      echoed += d.length;
      onEcho?.();
    });
    const rttOnce = () =>
      new Promise((resolve, reject) => {
        const want = echoed + 1;
        const timer = setTimeout(() => reject(new Error('no echo from ssh cat within 10 s')), 10_000);
        const t0 = performance.now();
        onEcho = () => {
          if (echoed < want) return;
          clearTimeout(timer);
          onEcho = undefined;
          resolve(performance.now() - t0);
        };
        cat.stdin.write('x');
      });
    await rttOnce();

    const samples = { remote: [], local: [], rtt: [] };
    const measures = {
      remote: (ch) => keystroke(remote, ch),
      local: (ch) => keystroke(local, ch),
      rtt: () => rttOnce(),
    };
    const order = ['remote', 'local', 'rtt'];
    // One untimed round, then rounds that rotate which side goes first.
    for (let i = -1; i < KEYSTROKES; i++) {
      const ch = KEYS[(i + KEYS.length) % KEYS.length];
      for (let j = 0; j < order.length; j++) {
        const side = order[(Math.max(i, 0) + j) % order.length];
        const ms = await measures[side](ch);
        if (i >= 0) samples[side].push(ms);
        await sleep(100);
      }
      if ((i + 1) % 10 === 9) {
        // Clear the lines (^U) and let both guests redraw them before the next keystroke.
        remote.ws.send('\x15');
        local.ws.send('\x15');
        await sleep(400);
      }
    }
    cat.stdin.end();
    remote.ws.close();
    local.ws.close();
    const [r, l, t] = [median(samples.remote), median(samples.local), median(samples.rtt)];
    const ratio = r / (l + t);
    out.push(
      `| keystroke → echo, serial console through serve (median of ${KEYSTROKES}): remote vs local console + ssh round trip | ${fmt(r)} | ${fmt(l)} + ${fmt(t)} = ${fmt(l + t)} | ${ratio.toFixed(3)} | ≤ 1.2: ${ratio <= 1.2 ? 'met' : 'missed'} |`,
    );
    const [r95, l95, t95] = [p95(samples.remote), p95(samples.local), p95(samples.rtt)];
    out.push(
      `| keystroke → echo, p95 of ${KEYSTROKES}: remote vs local + ssh round trip | ${fmt(r95)} | ${fmt(l95)} + ${fmt(t95)} = ${fmt(l95 + t95)} | ${(r95 / (l95 + t95)).toFixed(3)} | — |`,
    );
    if (process.env.BENCH_REMOTE_JSON) fs.writeFileSync(process.env.BENCH_REMOTE_JSON, JSON.stringify(samples, null, 1));
    ok(await api.callOn(ALIAS, 'shutdownMachine', 'web', { force: true }), 'shutdownMachine (remote)');
    ok(await api.callOn(undefined, 'shutdownMachine', 'loc', { force: true }), 'shutdownMachine (local)');
  }
  api.close();
  console.log(out.join('\n'));
} catch (err) {
  if (out.length > 3) console.log(out.join('\n'));
  console.error(err);
  process.exitCode = 1;
} finally {
  await lab.cleanup();
}
