// Remote hosts over SSH (issue 9): a remote host's operations through `vmdesk serve` (one SSH
// connection, kept open) against the same operations run by hand over plain `ssh HOST vmdesk …`:
// list with 50 machines, start of the demo guest, and keystroke echo in its serial console against a
// local console plus the link's own round trip.
//
// The remote host is real: OpenSSH's sshd in a network namespace of its own, reached over a veth
// pair with its own address, host key and authorized key, and a library of its own — the recipe of
// src-main/integration/ssh-host.ts (which tsc does not emit to dist/), done here in plain JS. Root
// only (a namespace, a veth pair, sshd). Everything made is taken down at the end, also on failure.
// Sizes by env: BENCH_KEYSTROKES (50), BENCH_START_RUNS (3); BENCH_REMOTE_JSON=FILE keeps the echo samples.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { CLI, ROOT, fmt, machineInfo, median, sandbox } from './lib.mjs';

const SSHD = '/usr/sbin/sshd';
const PORT = 2222;
const PROMPT = 'vmdesk-demo# ';
const ALIAS = 'lab';
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

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function shellQuote(word) {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
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

function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function kill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function gone(pids, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(20);
  return pids.filter(isAlive);
}

function namespacePids(netns) {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Pids of the QEMUs and agents of a runtime dir. */
function runtimePids(runtime) {
  const pids = [];
  for (const uuid of fs.existsSync(runtime) ? fs.readdirSync(runtime) : []) {
    for (const f of ['qemu.pid', 'agent.pid']) {
      try {
        pids.push(Number(fs.readFileSync(path.join(runtime, uuid, f), 'utf8')));
      } catch {
        // none
      }
    }
  }
  return pids.filter((pid) => pid > 1);
}

/** Processes whose command line names `needle` (a path unique to this run): ssh clients of this run. */
function pidsMentioning(needle) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** True when an SSH server's banner arrives from address:port within a second. */
function sshBanner(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let seen = '';
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      if (seen.includes('\n')) done(seen.startsWith('SSH-2.0-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

function rootLocked() {
  try {
    const line = fs
      .readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('root:'));
    return line?.split(':')[1]?.startsWith('!') ?? false;
  } catch {
    return false;
  }
}

// --- What this run made, and its take-down (idempotent; also on failure and on signals). ---
const made = {
  netns: `vmd-${process.pid}-0`,
  netnsAdded: false,
  veth: '',
  dir: '',
  remoteRuntime: '',
  listener: undefined,
  sb: undefined,
  children: [],
};
let stopping;

function cleanup() {
  stopping ??= (async () => {
    const problems = [];
    for (const child of made.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await gone(made.children.map((c) => c.pid).filter(Boolean), 3000);
    for (const child of made.children) if (child.pid && isAlive(child.pid)) kill(child.pid);
    // ssh clients of this run (serve's control master, forwards): their argv names this run's ssh_config.
    const ssh = made.dir ? pidsMentioning(`${made.dir}/`) : [];
    // The remote library's machines (QEMU, agents), the listener, sessions, a remote VMDesk.
    const remote = [
      ...(made.remoteRuntime ? runtimePids(made.remoteRuntime) : []),
      ...(made.netnsAdded ? namespacePids(made.netns) : []),
      ...(made.listener?.pid ? [made.listener.pid] : []),
    ];
    const local = made.sb ? runtimePids(made.sb.runtime) : [];
    for (const pid of [...ssh, ...remote, ...local]) kill(pid);
    const left = await gone([...ssh, ...remote, ...local]);
    if (left.length) problems.push(`still running: ${left.join(' ')}`);
    if (made.veth && spawnSync('ip', ['link', 'show', made.veth]).status === 0) {
      const r = spawnSync('ip', ['link', 'del', made.veth], { encoding: 'utf8' });
      if (r.status !== 0) problems.push(`ip link del ${made.veth}: ${r.stderr}`);
    }
    if (made.netnsAdded) {
      const r = spawnSync('ip', ['netns', 'del', made.netns], { encoding: 'utf8' });
      if (r.status !== 0) problems.push(`ip netns del ${made.netns}: ${r.stderr}`);
      made.netnsAdded = false;
    }
    made.sb?.cleanup();
    for (const dir of [made.dir, made.remoteRuntime]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (problems.length) console.error(`remote.mjs clean-up: ${problems.join('; ')}`);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.error(`remote.mjs: ${signal}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** sshd in a network namespace, joined by a veth pair with a free /30 of 10.203.0.0/16. */
async function startSshHost() {
  made.dir = fs.mkdtempSync('/tmp/vsh-');
  // Short on purpose: unix socket paths must stay under 107 bytes.
  made.remoteRuntime = fs.mkdtempSync('/tmp/vrr-');
  const dir = made.dir;
  const remoteHome = path.join(dir, 'remote-home');
  fs.mkdirSync(remoteHome);

  run('ip', ['netns', 'add', made.netns]);
  made.netnsAdded = true;
  // A free /30, claimed by creating the root-side link under the slot's name (as ssh-host.ts does).
  const used = run('ip', ['-4', '-o', 'addr', 'show']);
  let root;
  let address;
  for (let i = 0; i < 16384 && !made.veth; i++) {
    const slot = (process.pid * 16 + 7 + i) % 16384;
    const base = `10.203.${(slot * 4) >> 8}.`;
    const low = (slot * 4) & 255;
    const quad = [0, 1, 2, 3].map((n) => `${base}${low + n}`);
    if (quad.some((a) => used.includes(` ${a}/`))) continue;
    const r = spawnSync('ip', ['link', 'add', `vsh${slot}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', made.netns], {
      encoding: 'utf8',
    });
    if (r.status === 0) [made.veth, root, address] = [`vsh${slot}`, quad[1], quad[2]];
    else if (!/exists/i.test(r.stderr)) throw new Error(`ip link add failed: ${r.stderr}`);
  }
  if (!made.veth) throw new Error('no free /30 in 10.203.0.0/16');
  run('ip', ['addr', 'add', `${root}/30`, 'dev', made.veth]);
  run('ip', ['link', 'set', made.veth, 'up']);
  run('ip', ['-n', made.netns, 'link', 'set', 'lo', 'up']);
  run('ip', ['-n', made.netns, 'addr', 'add', `${address}/30`, 'dev', 'eth0']);
  run('ip', ['-n', made.netns, 'link', 'set', 'eth0', 'up']);

  const hostKey = path.join(dir, 'hostkey');
  const identity = path.join(dir, 'id_ed25519');
  for (const key of [hostKey, identity]) run('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-C', 'vmdesk-bench', '-f', key]);
  fs.copyFileSync(`${identity}.pub`, path.join(dir, 'authorized_keys'));
  const knownHostsFile = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHostsFile, '');
  const sshConfig = path.join(dir, 'ssh_config');
  fs.writeFileSync(
    sshConfig,
    [
      `Host ${ALIAS}`,
      `  HostName ${address}`,
      `  Port ${PORT}`,
      '  User root',
      `  IdentityFile ${identity}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHostsFile}`,
      '  GlobalKnownHostsFile /dev/null',
      '',
      'Host *',
      '  IdentityAgent none',
      '',
    ].join('\n'),
  );

  fs.mkdirSync('/run/sshd', { recursive: true });
  const sshdConfig = path.join(dir, 'sshd_config');
  const lines = [
    `HostKey ${hostKey}`,
    `ListenAddress ${address}`,
    `Port ${PORT}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `UsePAM ${rootLocked() ? 'yes' : 'no'}`,
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AllowStreamLocalForwarding yes',
    'AllowTcpForwarding yes',
    'ClientAliveInterval 5',
    'PrintMotd no',
    'PrintLastLog no',
  ];
  fs.writeFileSync(sshdConfig, `${[...lines, 'PerSourcePenalties no'].join('\n')}\n`);
  if (spawnSync(SSHD, ['-t', '-f', sshdConfig]).status !== 0) fs.writeFileSync(sshdConfig, `${lines.join('\n')}\n`);
  run(SSHD, ['-t', '-f', sshdConfig]);
  const log = fs.openSync(path.join(dir, 'sshd.log'), 'a');
  // nsenter --net, not `ip netns exec`: the remote shares this mount namespace (see ssh-host.ts).
  made.listener = spawn('nsenter', [`--net=/run/netns/${made.netns}`, '--', SSHD, '-D', '-e', '-f', sshdConfig], {
    stdio: ['ignore', log, log],
  });
  made.listener.unref();
  fs.closeSync(log);
  const deadline = Date.now() + 10_000;
  while (!(await sshBanner(address, PORT))) {
    if (made.listener.exitCode !== null || Date.now() > deadline)
      throw new Error(`sshd did not start:\n${fs.readFileSync(path.join(dir, 'sshd.log'), 'utf8')}`);
    await sleep(50);
  }
  const fingerprint = /SHA256:\S+/.exec(run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]))?.[0];
  const remoteCommand = ['env', `VMDESK_RUNTIME_DIR=${made.remoteRuntime}`, process.execPath, CLI].map(shellQuote).join(' ');
  return { address, sshConfig, knownHostsFile, fingerprint, remoteHome, remoteCommand };
}

/** `vmdesk serve` on a free loopback port; its URL once printed. */
async function serve(env) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  made.children.push(child);
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

function unavailableReason() {
  if (process.getuid?.() !== 0) return 'needs root (a network namespace, a veth pair, sshd)';
  if (!fs.existsSync(SSHD)) return `needs ${SSHD} (openssh-server)`;
  for (const [cmd, args] of [
    ['ssh', ['-V']],
    ['ssh-keygen', ['-?']],
    ['ip', ['-V']],
    ['nsenter', ['--version']],
  ])
    if (spawnSync(cmd, args).error) return `needs ${cmd}`;
  return null;
}
const unavailable = unavailableReason();
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
  const host = await startSshHost();
  const sb = sandbox();
  made.sb = sb;
  const env = { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig };
  delete env.VMDESK_QEMU;
  const remoteEnv = { ...env, VMDESK_HOME: host.remoteHome, VMDESK_RUNTIME_DIR: made.remoteRuntime };
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
  await timed(
    process.execPath,
    [
      CLI,
      'hosts',
      'add',
      ALIAS,
      ALIAS,
      '--remote-home',
      host.remoteHome,
      '--remote-command',
      host.remoteCommand,
      '--accept-host-key',
      host.fingerprint,
    ],
    env,
  );

  const { url } = await serve(env);
  const api = await openApi(url);
  for (let deadline = Date.now() + 60_000; ; await sleep(100)) {
    const hosts = ok(await api.callOn(undefined, 'listHosts'), 'listHosts');
    if (hosts.some((h) => h.name === ALIAS && h.state === 'connected')) break;
    if (Date.now() > deadline) throw new Error(`${ALIAS} did not connect: ${JSON.stringify(hosts)}`);
  }

  // By hand with a connection already open, as serve's is: an ssh ControlMaster, then `ssh -S` through it.
  const control = path.join(made.dir, 'cm.sock');
  const master = spawn('ssh', ['-F', host.sshConfig, '-o', 'BatchMode=yes', '-M', '-S', control, '-N', ALIAS], {
    env,
    stdio: 'ignore',
  });
  made.children.push(master);
  for (let deadline = Date.now() + 15_000; !fs.existsSync(control); await sleep(20))
    if (Date.now() > deadline) throw new Error('the ssh control master did not start');
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
    made.children.push(cat);
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
  await cleanup();
}
