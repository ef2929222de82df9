// Networking of the demo guest (user-mode NAT, QEMU's slirp): TCP throughput guest → host through NAT
// (busybox `dd | nc 10.0.2.2 PORT` into a sink this script runs), TCP throughput through a port forward
// (the guest's `dd | nc -l -p PORT`, read by this script from the forwarded host port), and connect +
// first byte through a forward (busybox httpd in the guest, one HTTP GET per connection).
// VMDesk: the machine made by `vmdesk create --demo`, started by `vmdesk start`, the forwards added
// while it runs with `vmdesk portforward`. By hand: the very same QEMU binary and argv (from the
// launch record), minus -S, with its own sockets, serial log and a copy of the disk, and the same
// hostfwd options on other host ports. Both guests run at once; the one not measured is paused, and
// the measurements alternate (VMDesk, by hand, by hand, VMDesk, …) so drift hits both. Medians shown.
// Both QEMUs are left to settle after boot, and a shell loop in each guest (no network) is timed in
// every round as a control: it shows how much of a difference is the host's CPU sharing alone.
// Run: `node bench/network.mjs` (after `npm run build`). Env: BENCH_RUNS (rounds, 6), BENCH_NET_MIB
// (MiB per transfer, 4), BENCH_CONNECTS (connects per round and side, 40), BENCH_LOOP (50000),
// BENCH_NET_JSON (a file for every sample).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, attachWhenReady, cli, cpuMs, machineInfo, median, sandbox, settle, whenLogShows } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 6);
const MIB = Number(process.env.BENCH_NET_MIB ?? 4);
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 40);
const LOOP = Number(process.env.BENCH_LOOP ?? 50000);
const BYTES = MIB * 2 ** 20;
const BLOCKS = Math.ceil(BYTES / 65536);
const GUEST_TPUT_PORT = 5001;
const GUEST_HTTP_PORT = 80;
const PROMPT = 'vmdesk-demo# ';

const { QmpClient } = await import(path.join(ROOT, 'dist/main/core/qemu/qmp-client.js'));
const { Core } = await import(path.join(ROOT, 'dist/main/core/core.js'));

function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** A host port nobody listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A guest driven through its serial console: `send` types a line, `serialLog` is where QEMU logs the
 * console. run() types a command followed by an echo of a marker the command line itself does not
 * contain (the shell computes it), and resolves once the marker is in the log.
 */
let markers = 0;
function shell(send, serialLog) {
  return {
    async run(command, timeoutMs = 120_000) {
      const id = ++markers;
      const from = fs.existsSync(serialLog) ? fs.statSync(serialLog).size : 0;
      const done = whenLogShows(serialLog, `mark-${id + 100000}.`, from, timeoutMs);
      await send(`${command}; echo mark-$((${id}+100000)).\n`);
      await done;
    },
  };
}

/** Counts what a socket receives; once `bytes` are in, calls done(ms from the first to the last byte) and closes it. */
function timeBytes(socket, bytes, done) {
  const got = { n: 0 };
  let t0 = 0;
  socket.on('data', (d) => {
    if (!t0) t0 = performance.now();
    got.n += d.length;
    if (got.n >= bytes) {
      done(performance.now() - t0);
      socket.destroy();
    }
  });
  return got;
}

/** A TCP sink on the host: resolves with the time from the first to the last of `bytes` bytes. */
function sink() {
  const waiting = [];
  const server = net.createServer((socket) => {
    const job = waiting.shift();
    if (!job) return socket.destroy();
    socket.on('error', () => undefined);
    const got = timeBytes(socket, job.bytes, job.resolve);
    socket.on('close', () => got.n < job.bytes && job.reject(new Error(`sink: connection closed after ${got.n} of ${job.bytes} bytes`)));
  });
  return {
    listen: () => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port))),
    expect: (bytes) => new Promise((resolve, reject) => waiting.push({ bytes, resolve, reject })),
    close: () => server.close(),
  };
}

/**
 * Reads `bytes` bytes from a forwarded host port: resolves with the time from the first to the last
 * byte. Until the guest listens, slirp accepts and then drops the connection without data: retry.
 */
async function readForward(port, bytes, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await new Promise((resolve) => {
      const socket = net.createConnection(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const got = timeBytes(socket, bytes, (ms) => resolve({ ms }));
      socket.on('close', () => resolve({ got: got.n }));
    });
    if (r.ms !== undefined) return r.ms;
    if (r.got > 0) throw new Error(`forward: connection closed after ${r.got} of ${bytes} bytes`);
    if (Date.now() > deadline) throw new Error(`forward: nothing listens behind 127.0.0.1:${port}`);
    await sleep(100);
  }
}

/** One connect + HTTP GET through a forward: ms until the first byte of the answer. */
function connectFirstByte(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.createConnection(port, '127.0.0.1');
    let done = false;
    socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.once('data', () => {
      done = true;
      resolve(performance.now() - t0);
      socket.destroy();
    });
    socket.on('error', (e) => !done && reject(e));
    socket.on('close', () => !done && reject(new Error(`connect ${port}: closed without an answer`)));
  });
}

async function connects(port, count) {
  // One untimed connect first: the answer must be there (httpd started) before timing.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connectFirstByte(port);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(200);
    }
  }
  const times = [];
  for (let i = 0; i < count; i++) times.push(await connectFirstByte(port));
  return times;
}

const sb = sandbox();
const procs = [];
let rawQmp = null;
try {
  const load0 = os.loadavg();
  cli(sb, ['create', 'bench', '--demo']);
  const { uuid, dir } = JSON.parse(cli(sb, ['show', 'bench', '--json']));
  const serialLog = path.join(dir, 'logs', 'serial.log');

  // VMDesk: start, wait for the prompt, add the forwards live.
  const from = fs.existsSync(serialLog) ? fs.statSync(serialLog).size : 0;
  const vPrompt = whenLogShows(serialLog, PROMPT, from);
  cli(sb, ['start', 'bench']);
  await vPrompt;
  const core = new Core({ env: sb.env });
  const launch = JSON.parse(fs.readFileSync(path.join(sb.runtime, uuid, 'launch.json'), 'utf8'));
  const vmdesk = {
    // Typing, pausing and resuming through a core loaded in this process (as the app does): a
    // `vmdesk` process per command would compete for the CPU right when a transfer starts.
    shell: shell((text) => core.sendText('bench', text), serialLog),
    pause: () => core.pause('bench'),
    resume: () => core.resume('bench'),
    tputPort: await freePort(),
    httpPort: await freePort(),
  };
  // The forwards, added while the machine runs.
  let added = '';
  for (const [name, hostPort, guestPort] of [
    ['tput', vmdesk.tputPort, GUEST_TPUT_PORT],
    ['http', vmdesk.httpPort, GUEST_HTTP_PORT],
  ]) {
    added = cli(sb, ['portforward', 'bench', 'add', name, '--host-port', String(hostPort), '--guest-port', String(guestPort)]);
  }
  // By hand: the same argv, minus -S, in its own runtime dir, with its own serial log and disk copy,
  // and the same hostfwd options on other host ports.
  const rawDir = path.join(sb.runtime, 'raw');
  fs.mkdirSync(rawDir);
  const rawSerialLog = path.join(rawDir, 'serial.log');
  const rawDisk = path.join(rawDir, 'disk0.qcow2');
  fs.copyFileSync(path.join(dir, 'disks', 'disk0.qcow2'), rawDisk);
  const raw = {
    tputPort: await freePort(),
    httpPort: await freePort(),
  };
  const hostfwd = (side) =>
    `hostfwd=tcp:127.0.0.1:${side.tputPort}-:${GUEST_TPUT_PORT},hostfwd=tcp:127.0.0.1:${side.httpPort}-:${GUEST_HTTP_PORT}`;
  const runtimeDir = path.join(sb.runtime, uuid);
  const rawArgs = launch.args
    .filter((a) => a !== '-S')
    .map((a) => {
      if (a.startsWith('{')) {
        const spec = JSON.parse(a);
        if (spec['node-name'] === 'disk0') spec.file.filename = rawDisk;
        return JSON.stringify(spec);
      }
      if (/^user,id=net0\b/.test(a)) {
        const kept = a.split(',').filter((o) => !o.startsWith('hostfwd='));
        return [...kept, hostfwd(raw)].join(',');
      }
      return a.replaceAll(runtimeDir, rawDir).replaceAll(launch.serialLog, rawSerialLog);
    });
  const rPrompt = whenLogShows(rawSerialLog, PROMPT, 0);
  const rawLog = fs.openSync(path.join(rawDir, 'qemu.log'), 'w');
  // In a session of its own, as VMDesk's QEMU is (under its detached agent): with the kernel's
  // autogroups, a session is what the scheduler shares the CPU between.
  const qemu = spawn(launch.qemuBinary, rawArgs, { stdio: ['ignore', rawLog, rawLog], detached: true });
  procs.push(qemu);
  const serial = await attachWhenReady(path.join(rawDir, 'serial.sock'));
  rawQmp = await QmpClient.connect(path.join(rawDir, 'qmp.sock'), { retryUntil: Date.now() + 30_000, timeoutMs: 60_000 });
  await rPrompt;
  Object.assign(raw, {
    shell: shell((text) => new Promise((r) => serial.write(text, r)), rawSerialLog),
    pause: () => rawQmp.execute('stop'),
    resume: () => rawQmp.execute('cont'),
  });

  // Both guests: an address from DHCP, a page for httpd, httpd on port 80.
  for (const side of [vmdesk, raw]) {
    await side.shell.run('until ip -4 addr show eth0 | grep -q inet; do sleep 0.2; done');
    await side.shell.run('mkdir -p /tmp/www && echo hello > /tmp/www/index.html && httpd -p 80 -h /tmp/www');
  }
  vmdesk.pid = Number(fs.readFileSync(path.join(runtimeDir, 'qemu.pid'), 'utf8'));
  raw.pid = qemu.pid;
  await Promise.all([settle(vmdesk.pid), settle(raw.pid)]);
  // Only the guest measured runs: the other is paused.
  const running = new Set([vmdesk, raw]);
  const runOnly = async (side, other) => {
    if (running.has(other)) await other.pause();
    running.delete(other);
    if (!running.has(side)) await side.resume();
    running.add(side);
  };

  const host = sink();
  const sinkPort = await host.listen();
  // One untimed run of everything per guest first: TCG translates the guest code paths on first use.
  for (const [k, side] of [vmdesk, raw].entries()) {
    await runOnly(side, [vmdesk, raw][1 - k]);
    const got = host.expect(2 ** 20);
    await side.shell.run(`dd if=/dev/zero bs=64k count=16 2>/dev/null | nc 10.0.2.2 ${sinkPort}`);
    await got;
    const sent = side.shell.run(`dd if=/dev/zero bs=64k count=16 2>/dev/null | nc -l -p ${GUEST_TPUT_PORT}`);
    await readForward(side.tputPort, 2 ** 20);
    await sent;
    await connects(side.httpPort, 1);
    await side.shell.run(`i=0; while [ $i -lt ${LOOP} ]; do i=$((i+1)); done`);
  }
  const rows = new Map([vmdesk, raw].map((s) => [s, { nat: [], natCpu: [], fwd: [], fwdCpu: [], lat: [], loop: [] }]));
  for (let i = 0; i < RUNS; i++) {
    // VMDesk, by hand, by hand, VMDesk, VMDesk, …: a steady drift weighs on both alike.
    const order = i % 2 ? [raw, vmdesk] : [vmdesk, raw];
    for (const [k, side] of order.entries()) {
      await runOnly(side, order[1 - k]);
      const r = rows.get(side);
      // Guest → host through NAT: 10.0.2.2 is the host's loopback seen from the guest.
      let cpu = cpuMs(side.pid);
      const got = host.expect(BYTES);
      await side.shell.run(`dd if=/dev/zero bs=64k count=${BLOCKS} 2>/dev/null | nc 10.0.2.2 ${sinkPort}`);
      r.nat.push(await got);
      r.natCpu.push(cpuMs(side.pid) - cpu);
      // Guest → host through a forward: the host reads from its forwarded port.
      cpu = cpuMs(side.pid);
      const sent = side.shell.run(`dd if=/dev/zero bs=64k count=${BLOCKS} 2>/dev/null | nc -l -p ${GUEST_TPUT_PORT}`);
      r.fwd.push(await readForward(side.tputPort, BYTES));
      await sent;
      r.fwdCpu.push(cpuMs(side.pid) - cpu);
      r.lat.push(...(await connects(side.httpPort, CONNECTS)));
      // Control without any network: a shell loop in the guest, timed from typing to its marker.
      const t0 = performance.now();
      await side.shell.run(`i=0; while [ $i -lt ${LOOP} ]; do i=$((i+1)); done`);
      r.loop.push(performance.now() - t0);
    }
  }
  host.close();
  const load1 = os.loadavg();

  const v = rows.get(vmdesk);
  const q = rows.get(raw);
  const mibs = (ms) => BYTES / 2 ** 20 / (ms / 1000);
  const cell = (x, unit) => (x === undefined ? 'n/a' : `${x.toFixed({ ms: 1, '%': 0 }[unit] ?? 2)} ${unit}`);
  const stat = (xs, f) => (xs.length ? f(xs) : undefined);
  const ratio = (x, y) => (x === undefined || y === undefined ? 'n/a' : (x / y).toFixed(3));
  const out = [
    `network (${machineInfo()}; accel ${launch.accel}; ${MIB} MiB per transfer, ${RUNS} rounds, ${CONNECTS} connects per round and side;`,
    ` load average ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after)`,
    '| measure | VMDesk | same QEMU argv by hand | ratio | goal |',
    '| --- | --- | --- | --- | --- |',
  ];
  const row = (label, x, y, unit, goal) => out.push(`| ${label} | ${cell(x, unit)} | ${cell(y, unit)} | ${ratio(x, y)} | ${goal} |`);
  for (const [what, wall, cpuTime] of [
    ['NAT', 'nat', 'natCpu'],
    ['a port forward', 'fwd', 'fwdCpu'],
  ]) {
    const mibsOf = (xs) => stat(xs, (s) => mibs(median(s)));
    row(
      `TCP guest → host through ${what}, ${MIB} MiB (median of ${v[wall].length}/${q[wall].length})`,
      mibsOf(v[wall]),
      mibsOf(q[wall]),
      'MiB/s',
      '≥ 0.95',
    );
    const share = (r) => (r[wall].length ? (100 * r[cpuTime].reduce((a, b) => a + b, 0)) / r[wall].reduce((a, b) => a + b, 0) : undefined);
    row('— QEMU CPU time during these transfers, % of one core', share(v), share(q), '%', '—');
  }
  for (const [label, f] of [
    ['median', median],
    ['p95', (xs) => percentile(xs, 95)],
  ]) {
    row(
      `connect + first byte through a forward, ${label} of ${v.lat.length}/${q.lat.length} (lower is better)`,
      stat(v.lat, f),
      stat(q.lat, f),
      'ms',
      '—',
    );
  }
  row(
    `control, no network: a busybox sh loop of ${LOOP} iterations in the guest, median (lower is better)`,
    stat(v.loop, median),
    stat(q.loop, median),
    'ms',
    '—',
  );
  out.push('');
  const each = (xs) => xs.map((ms) => mibs(ms).toFixed(2)).join(' ');
  out.push(`Each run, MiB/s: NAT VMDesk ${each(v.nat)}, by hand ${each(q.nat)}; forward VMDesk ${each(v.fwd)}, by hand ${each(q.fwd)}.`);
  out.push(
    `VMDesk's forwards were added while the machine ran, with \`vmdesk portforward bench add NAME --host-port P --guest-port P\` (it said: ${added.trim().split('\n')[0]}); by hand they are hostfwd options on the command line.`,
  );
  out.push('Ratios are VMDesk / by hand (for latency, lower is better).');
  if (launch.accel === 'tcg') {
    out.push(
      'Under TCG the emulated guest CPU bounds these figures (the guest kernel TCP stack and virtio-net driver run in emulation); they compare the two launches, not what the network can carry.',
    );
  }
  console.log(out.join('\n'));
  // Every sample, for pooling several runs (BENCH_NET_JSON=FILE).
  if (process.env.BENCH_NET_JSON) {
    const samples = { load0, load1, mib: MIB, vmdesk: v, byHand: q };
    fs.writeFileSync(process.env.BENCH_NET_JSON, JSON.stringify(samples));
  }
} finally {
  try {
    rawQmp?.close();
  } catch {
    /* gone */
  }
  for (const p of procs) p.kill('SIGKILL');
  sb.cleanup();
}
