// Live migration (issue 10): the same running demo guest (256 MiB and 1 GiB of RAM; idle, and with a
// memory-dirtying loop typed into its serial console) moved to a second host three ways, side by side
// in one run:
//   - VMDesk: `vmdesk migrate NAME --to lab --bandwidth B --max-downtime D --json` (its totalMs,
//     downtimeMs and qemuDowntimeMs);
//   - by hand over SSH: the same QEMU argv (read from /proc/PID/cmdline of the VMDesk-started QEMU,
//     paths moved to folders of its own), the destination QEMU started there through ssh, the same
//     QMP commands in VMDesk's order (src-main/core/migration/outgoing.ts and incoming.ts), every
//     stream (QMP of the destination, NBD, migration) through one ssh ControlMaster's `-O forward`
//     unix sockets;
//   - by hand over a plain unix socket: the same with both QEMUs on this host and no ssh at all — what
//     the encryption costs.
// Both hand-driven ways use the same max-bandwidth and downtime-limit as VMDesk, count the downtime as
// VMDesk does (from pre-switchover until the destination's `cont` has answered) and read QEMU's own
// (query-migrate on the source). For all three, where the time went comes from the QMP events (for
// VMDesk as its agents pass them on). The three guests of a run boot together, wait until all three are
// idle (the demo guest is busy ~20 s after its prompt), then migrate one after the other in an order
// that rotates from run to run. Each run's line also gives what QEMU sent while the guest was paused
// (downtime-bytes) and TCP's loss recovery in both namespaces.
//
// The remote host is real: OpenSSH's sshd in a network namespace of its own over a veth pair, with
// its own host key, address, library and runtime dir (ssh-lab.mjs, as remote.mjs). Root only. Everything made
// (namespace, veth, sshd, ssh clients, QEMUs, agents, folders) is taken down at the end, also on
// failure and on Ctrl-C. Sizes by env: BENCH_MIGRATION_RUNS (3), BENCH_MIGRATION_BANDWIDTH (MiB/s,
// 256; 0: none), BENCH_MIGRATION_DOWNTIME (ms, 300), BENCH_MIGRATION_MEMORY (MiB, "256,1024"),
// BENCH_MIGRATION_LOADS ("idle,dirty"); BENCH_MIGRATION_JSON=FILE keeps every sample;
// BENCH_SSH_MASTER_SESSION=1 gives the by-hand SSH connection a session too (ssh-lab.mjs);
// BENCH_SSH_MASTER_REUSE=1 keeps one by-hand connection for all runs instead of a new one per migration;
// BENCH_MIGRATION_SETTLE=0 migrates 3 s after the prompts, busy or not (as before 2026-12-04);
// BENCH_MIGRATION_TRACE=EVENT,... enables QEMU trace events (`-trace enable=`, wildcards too) in the
// by-hand sources and prints their log.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT, fmt, machineInfo, median, sandbox, settle } from './lib.mjs';
import { AgentEvents, Console, Qmp, connectUnix, openSockets } from './qemu-lib.mjs';
import { ALIAS, SshLab, gone, hostsAddArgs, kill, labUnavailable, run, shellQuote } from './ssh-lab.mjs';

const { parsePidStat } = await import(path.join(ROOT, 'dist/main/core/resources/proc-figures.js'));

const PROMPT = 'vmdesk-demo# ';
const RUNS = Number(process.env.BENCH_MIGRATION_RUNS ?? 3);
const BANDWIDTH_MIBS = Number(process.env.BENCH_MIGRATION_BANDWIDTH ?? 256);
const DOWNTIME_MS = Number(process.env.BENCH_MIGRATION_DOWNTIME ?? 300);
const MEMORIES = (process.env.BENCH_MIGRATION_MEMORY ?? '256,1024').split(',').map(Number);
const LOADS = (process.env.BENCH_MIGRATION_LOADS ?? 'idle,dirty').split(',');
// The memory-dirtying loop: 32 MiB of random bytes (made once) rewritten into a RAM-backed file, over
// and over (~100–160 MiB/s under TCG here). Random, not zeros: QEMU sends a zero page as a flag, so a
// loop writing zeros dirties pages without giving the link anything to carry.
const DIRTY_LOOP = 'dd if=/dev/urandom of=/dev/shm/r bs=1M count=32 2>/dev/null; while true; do cat /dev/shm/r >/dev/shm/x; done &';
const METHODS = ['vmdesk', 'ssh', 'plain'];
const MiB = 1024 * 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The kinds of process whose CPU a migration's table shows, by their /proc comm. */
const CPU_KINDS = [
  ['QEMU', (comm) => comm.startsWith('qemu-system')],
  ['ssh', (comm) => comm === 'ssh'],
  ['sshd', (comm) => comm === 'sshd'],
  ['VMDesk (Node)', (comm) => comm === 'node' || comm.startsWith('vmdesk') || comm === 'MainThread'],
];
const TICK_MS = 10; // USER_HZ 100: /proc's CPU times are in hundredths of a second

/**
 * CPU used so far per process on this machine (both "hosts" share its process table): its comm, its
 * ticks and start time (core's parsePidStat), sshd's read/write counters; the bench's own reaped
 * children (the `vmdesk` commands, ssh clients that ended) through its cutime. A migration's share
 * is the difference of two of these.
 */
function cpuNow() {
  const byPid = new Map();
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const times = parsePidStat(stat);
      if (!times) continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const reaped = pid === String(process.pid) ? Number(fields[13]) + Number(fields[14]) : 0;
      // sshd's reads and writes too: how many system calls its bytes take.
      const io =
        comm === 'sshd'
          ? Object.fromEntries(
              fs
                .readFileSync(`/proc/${pid}/io`, 'utf8')
                .trim()
                .split('\n')
                .map((l) => l.split(': ')),
            )
          : null;
      // QEMU's threads too (main loop, vCPU, live_migration...), each QEMU told source or destination
      // by its -incoming: which thread does more under one way than the other.
      const threads = comm.startsWith('qemu-system') ? qemuThreads(pid) : null;
      byPid.set(pid, { comm, ticks: times.ticks, startTime: times.startTime, reaped, io, threads });
    } catch {
      // gone meanwhile
    }
  }
  return byPid;
}

/** A QEMU's role (its argv has -incoming: the destination) and its threads' ticks by tid. */
function qemuThreads(pid) {
  const role = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('-incoming') ? 'destination' : 'source';
  const byTid = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const times = parsePidStat(stat);
      if (!times) continue;
      const threadComm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // The migration thread's context switches: voluntary when it waits (on its socket), not when preempted.
      const switches =
        threadComm === 'live_migration'
          ? fs
              .readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
              .split('\n')
              .filter((l) => l.includes('ctxt_switches'))
              .map((l) => Number(l.split(':')[1]))
          : null;
      byTid.set(tid, { comm: threadComm, ticks: times.ticks, startTime: times.startTime, switches });
    } catch {
      // ended meanwhile
    }
  }
  return { role, byTid };
}

/**
 * TCP's loss recovery in this network namespace (the migration's sender's: ssh to lab, and QEMU on the
 * plain socket): retransmission timeouts (each at least 200 ms of a stalled stream), tail loss probes and
 * segments sent again. Read before and after each migration, to tell a stall of the network from one of
 * QEMU or VMDesk. `netns`: another namespace's (lab's).
 */
function tcpRecovery(netns) {
  const read = (file) => (netns ? run('ip', ['netns', 'exec', netns, 'cat', file]) : fs.readFileSync(file, 'utf8'));
  const table = (file, prefix) => {
    const [head, values] = read(file)
      .split('\n')
      .filter((l) => l.startsWith(`${prefix}:`));
    const names = head.split(/\s+/).slice(1);
    const nums = values.split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(names.map((n, i) => [n, nums[i]]));
  };
  const ext = table('/proc/net/netstat', 'TcpExt');
  return { timeouts: ext.TCPTimeouts, lossProbes: ext.TCPLossProbes, retrans: table('/proc/net/snmp', 'Tcp').RetransSegs };
}

/** cpuNow() every 100 ms (a scan costs ~2 ms here) until stop(); then the CPU between two moments. */
function cpuSampler() {
  const readings = [{ at: performance.now(), byPid: cpuNow() }];
  const timer = setInterval(() => readings.push({ at: performance.now(), byPid: cpuNow() }), 100);
  return {
    stop() {
      clearInterval(timer);
      readings.push({ at: performance.now(), byPid: cpuNow() });
    },
    /** CPU ms per kind from the last reading at or before `from` to the first at or after `to`. */
    between(from, to) {
      if (!Number.isFinite(from) || !Number.isFinite(to)) return null;
      const first = readings.filter((r) => r.at <= from).at(-1) ?? readings[0];
      const last = readings.find((r) => r.at >= to) ?? readings.at(-1);
      return { ms: last.at - first.at, ...cpuBetween(first.byPid, last.byPid) };
    },
  };
}

/**
 * CPU ms per kind between two cpuNow() readings, by each process's comm at the end; a process born
 * meanwhile (a pid not there before, or reused: another start time) counts whole.
 */
function cpuBetween(before, after) {
  const used = Object.fromEntries(CPU_KINDS.map(([kind]) => [kind, 0]));
  used.other = 0;
  used['reaped children'] = 0;
  used['sshd syscalls'] = 0;
  used['sshd MiB read'] = 0;
  used.threads = {};
  used.switches = {};
  for (const [pid, a] of after) {
    const was = before.get(pid);
    const b = was && was.startTime === a.startTime ? was : undefined;
    const ticks = a.ticks - (b?.ticks ?? 0);
    const kind = CPU_KINDS.find(([, match]) => match(a.comm))?.[0] ?? 'other';
    used[kind] += ticks * TICK_MS;
    used['reaped children'] += (a.reaped - (b?.reaped ?? 0)) * TICK_MS;
    if (a.threads) {
      for (const [tid, t] of a.threads.byTid) {
        const was = b?.threads?.byTid.get(tid);
        const key = `QEMU ${a.threads.role}: ${t.comm.replace(/\d+/g, 'N')}`;
        const same = was && was.startTime === t.startTime;
        used.threads[key] = (used.threads[key] ?? 0) + (t.ticks - (same ? was.ticks : 0)) * TICK_MS;
        if (t.switches) {
          const [voluntary, preempted] = t.switches.map((n, k) => n - (same && was.switches ? was.switches[k] : 0));
          const waited = `${a.threads.role} live_migration: waited`;
          const cut = `${a.threads.role} live_migration: preempted`;
          used.switches[waited] = (used.switches[waited] ?? 0) + voluntary;
          used.switches[cut] = (used.switches[cut] ?? 0) + preempted;
        }
      }
    }
    if (a.io) {
      const io = b?.io ?? { syscr: 0, syscw: 0, rchar: 0 };
      used['sshd syscalls'] += Number(a.io.syscr) + Number(a.io.syscw) - Number(io.syscr) - Number(io.syscw);
      used['sshd MiB read'] += (Number(a.io.rchar) - Number(io.rchar)) / MiB;
    }
  }
  return used;
}

/**
 * Runs a program to its end (asynchronously: several may run at once); rejects on a non-zero exit.
 * `outputAt`: when its first stdout bytes arrived.
 */
function exec(cmd, args, { env, input, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let outputAt = NaN;
    child.stdout.on('data', (d) => {
      if (!stdout) outputAt = performance.now();
      stdout += d;
    });
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ stdout, stderr, outputAt });
    });
  });
}

const lab = new SshLab('migration.mjs', { netnsPrefix: 'vmm', slotOffset: 11, sockets: openSockets });

// ---------------------------------------------------------------------------------------------------

const unavailable = labUnavailable([
  ['tar', ['--version']],
  ['qemu-img', ['--version']],
]);
if (unavailable) {
  console.log(`migration: skipped — ${unavailable}`);
  process.exit(0);
}

const loadAtStart = os.loadavg()[0];
const samples = [];
let handCount = 0;

try {
  const host = await lab.start();
  const sb = sandbox();
  lab.sb = sb;
  // The QEMUs started by hand, here or on lab, and their folders: under this one.
  const hand = fs.mkdtempSync('/tmp/vmh-');
  lab.scratch.push(hand);
  const env = { ...sb.env, VMDESK_SSH_CONFIG: host.sshConfig };
  delete env.VMDESK_QEMU;
  const remoteEnv = { ...env, VMDESK_HOME: host.remoteHome, VMDESK_RUNTIME_DIR: lab.remoteRuntime };
  const vmdesk = (args, e = env) => exec(process.execPath, [CLI, ...args], { env: e, timeoutMs: 600_000 });

  await vmdesk(hostsAddArgs(host));

  // By hand: an ssh connection kept open (a ControlMaster), every stream a `-O forward` of it. A new
  // one for each migration, made before its clock starts, as `vmdesk migrate` connects before its
  // totalMs: the first megabytes through a new connection cost lab's sshd ~0.5 s more than later
  // ones (glibc's malloc growing its buffers; bench/RESULTS.md, 2026-12-04 05:50), and a connection
  // kept for all runs paid that only in the first. BENCH_SSH_MASTER_REUSE=1 keeps one for all runs.
  let connection = await lab.controlMaster(host, env, 'cm0');
  let connections = 1;
  let sshOn = ['-F', host.sshConfig, '-S', connection.control];
  const newConnection = async () => {
    if (process.env.BENCH_SSH_MASTER_REUSE === '1') return;
    connection.master.kill('SIGTERM');
    await gone([connection.master.pid]);
    connection = await lab.controlMaster(host, env, `cm${connections++}`);
    sshOn = ['-F', host.sshConfig, '-S', connection.control];
  };
  const forward = async (local, remote) => {
    await exec('ssh', [...sshOn, '-O', 'forward', '-L', `${local}:${remote}`, ALIAS], { env });
    return local;
  };
  const unforward = (local, remote) =>
    exec('ssh', [...sshOn, '-O', 'cancel', '-L', `${local}:${remote}`, ALIAS], { env }).catch(() => undefined);

  /** The VMDesk-started source of a run: created, its fresh folder kept as the template of the hand-started ones, started. */
  async function startVmdeskGuest(name, memory, template) {
    await vmdesk(['create', name, '--demo', '--memory', String(memory)]);
    const shown = JSON.parse((await vmdesk(['show', name, '--json'])).stdout);
    const { dir, uuid } = shown;
    fs.rmSync(template, { recursive: true, force: true });
    fs.mkdirSync(template, { recursive: true });
    for (const sub of ['disks', 'boot']) fs.cpSync(path.join(dir, sub), path.join(template, sub), { recursive: true });
    await vmdesk(['start', name]);
    const runtimeDir = path.join(sb.runtime, uuid);
    const pid = Number(fs.readFileSync(path.join(runtimeDir, 'qemu.pid'), 'utf8'));
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    const console_ = new Console(await connectUnix(path.join(runtimeDir, 'console.sock')));
    return { method: 'vmdesk', name, uuid, dir, runtimeDir, argv, pid, console: console_ };
  }

  /** The same argv with the machine's folder and runtime dir moved under `to` (m/ and rt/). */
  function moveArgv(argv, guest, to) {
    return argv.map((a) => a.split(guest.runtimeDir).join(`${to}/rt`).split(guest.dir).join(`${to}/m`));
  }

  /** Disks of an argv: node name, file under the machine folder, virtual size (from the template). */
  function disksOf(guest, template) {
    const disks = [];
    for (let i = 0; i < guest.argv.length; i++) {
      if (guest.argv[i] !== '-blockdev' || !guest.argv[i + 1].startsWith('{')) continue;
      const node = JSON.parse(guest.argv[i + 1]);
      const file = node.file?.filename;
      if (!file?.startsWith(`${guest.dir}/`)) continue;
      const relative = path.relative(guest.dir, file);
      const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-U', path.join(template, relative)]));
      disks.push({ node: node['node-name'], relative, bytes: info['virtual-size'] });
    }
    return disks;
  }

  /** A hand-started source: the VMDesk guest's argv in a folder of its own, continued as VMDesk's agent does. */
  async function startHandGuest(method, vm, template) {
    const dir = path.join(hand, `s${++handCount}`);
    fs.mkdirSync(path.join(dir, 'rt'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'm', 'logs'), { recursive: true });
    fs.cpSync(template, path.join(dir, 'm'), { recursive: true });
    const [binary, ...args] = moveArgv(vm.argv, vm, dir);
    if (process.env.BENCH_MIGRATION_TRACE)
      for (const event of process.env.BENCH_MIGRATION_TRACE.split(',')) args.push('-trace', `enable=${event}`);
    const log = fs.openSync(path.join(dir, 'qemu.log'), 'a');
    const child = spawn(binary, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    lab.children.push(child);
    const exited = new Promise((r) => child.once('exit', r));
    const qmp = await Qmp.connect(path.join(dir, 'rt', 'qmp.sock'));
    const console_ = new Console(await connectUnix(path.join(dir, 'rt', 'serial.sock')));
    await qmp.cmd('cont');
    return { method, dir, child, pid: child.pid, exited, qmp, console: console_ };
  }

  /** One migration by VMDesk: the CLI's outcome, and the QMP events both agents passed on. */
  async function migrateVmdesk(guest) {
    const source = new AgentEvents(await connectUnix(path.join(guest.runtimeDir, 'agent.sock')));
    // The destination's agent appears during the migration: its events from as soon as it listens,
    // and when the machine's folder and then that socket appeared there.
    let dest = null;
    let watching = true;
    let folderAt = NaN;
    const destFolder = path.join(host.remoteHome, 'machines', guest.name);
    const destSocket = path.join(lab.remoteRuntime, guest.uuid, 'agent.sock');
    const watcher = (async () => {
      while (watching && !dest) {
        if (Number.isNaN(folderAt) && fs.existsSync(destFolder)) folderAt = performance.now();
        const seen = performance.now();
        const socket = fs.existsSync(destSocket) ? await connectUnix(destSocket, 5000).catch(() => null) : null;
        if (socket) {
          dest = new AgentEvents(socket);
          dest.since = seen;
        } else await sleep(2);
      }
    })();
    const t0 = performance.now();
    const { stdout, outputAt } = await vmdesk([
      'migrate',
      guest.name,
      '--to',
      ALIAS,
      ...(BANDWIDTH_MIBS ? ['--bandwidth', String(BANDWIDTH_MIBS)] : []),
      '--max-downtime',
      String(DOWNTIME_MS),
      '--json',
    ]);
    const end = performance.now();
    watching = false;
    await watcher;
    const outcome = JSON.parse(stdout);
    // The outcome is printed as soon as migrate() returns: its totalMs ends there, so it began totalMs before.
    const began = outputAt - outcome.totalMs;
    const resumed = dest ? await dest.wait((e) => e.event === 'RESUME', 10_000, 0, 'RESUME on lab').catch(() => null) : null;
    source.close();
    dest?.close();
    guest.console.close();
    // The machine now lives on lab: ended and deleted there (its library, read directly).
    await vmdesk(['stop', guest.name, '--force'], remoteEnv);
    await vmdesk(['delete', guest.name], remoteEnv);
    return {
      totalMs: outcome.totalMs,
      // VMDesk's downtimeMs: from pre-switchover until the destination has continued the guest; QEMU's own beside it.
      downtimeMs: outcome.downtimeMs,
      qemuDowntimeMs: outcome.qemuDowntimeMs,
      downtimeBytes: outcome.ramDowntimeBytes ?? NaN,
      cliBeforeMs: began - t0,
      cliAfterMs: end - outputAt,
      ramBytes: outcome.ramBytes,
      // VMDesk's own account of its phases (since it reports them).
      vmdeskPhasesMs: outcome.phasesMs ?? null,
      phases: phasesOf(began, outputAt, source, resumed),
      // Until the mirror starts: the checks (until the folder is made there), the folder, its files, the
      // agent and QEMU (until the agent listens), then NBD, the exports, the forwards.
      prepare: [folderAt - began, (dest?.since ?? NaN) - folderAt],
    };
  }

  /**
   * One migration by hand, in VMDesk's order: the destination made and started (`-incoming defer`)
   * through ssh or locally, its disks exported over NBD, the source's disks mirrored into them, RAM
   * pre-copy paused before switchover, the mirrors completed, the migration continued, the
   * destination continued, the source ended.
   */
  async function migrateByHand(guest, vm, template, viaSsh) {
    const dir = path.join(hand, `d${++handCount}`);
    const [binary, ...args] = moveArgv(vm.argv, vm, dir);
    const disks = disksOf(vm, template);
    const script = [
      `mkdir -p ${[...new Set(disks.map((d) => path.dirname(path.join(dir, 'm', d.relative))))].map(shellQuote).join(' ')} ${shellQuote(`${dir}/m/logs`)} ${shellQuote(`${dir}/rt`)}`,
      ...disks.map((d) => `qemu-img create -q -f qcow2 ${shellQuote(path.join(dir, 'm', d.relative))} ${d.bytes}`),
      `tar x -C ${shellQuote(`${dir}/m`)}`,
      // In the background (-daemonize would need setsid, which -sandbox elevateprivileges=deny forbids);
      // the command returns once its QMP socket is there.
      `{ setsid ${[binary, ...args, '-incoming', 'defer'].map(shellQuote).join(' ')} </dev/null >${shellQuote(`${dir}/qemu.log`)} 2>&1 & }`,
      `i=0; while [ ! -S ${shellQuote(`${dir}/rt/qmp.sock`)} ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done`,
    ].join(' && ');
    const boot = run('tar', ['c', '-C', template, 'boot'], { encoding: 'buffer', maxBuffer: 256 * MiB });
    const local = (kind) => path.join(hand, `f${handCount}${kind}.sock`);
    const remote = (kind) => path.join(dir, 'rt', `${kind}.sock`);
    const forwards = [];
    const reach = async (kind) => {
      if (!viaSsh) return remote(kind);
      forwards.push([local(kind), remote(kind)]);
      return forward(local(kind), remote(kind));
    };
    const src = guest.qmp;
    const from = src.events.length;

    const t0 = performance.now();
    if (viaSsh) await exec('ssh', [...sshOn, ALIAS, script], { env, input: boot });
    else await exec('sh', ['-c', script], { input: boot });
    const started = performance.now();
    const dst = await Qmp.connect(await reach('qmp'));
    await dst.cmd('nbd-server-start', { addr: { type: 'unix', data: { path: remote('nbd') } } });
    for (const d of disks)
      await dst.cmd('block-export-add', { type: 'nbd', id: `mig-${d.node}`, 'node-name': d.node, name: `mig-${d.node}`, writable: true });
    await dst.cmd('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
    await dst.cmd('migrate-incoming', { uri: `unix:${remote('migrate')}` });
    const [nbd, stream] = await Promise.all([reach('nbd'), reach('migrate')]);

    for (const d of disks) {
      const target = `mig-${d.node}`;
      await src.cmd('blockdev-add', { driver: 'nbd', 'node-name': target, server: { type: 'unix', path: nbd }, export: target });
      await src.cmd('blockdev-mirror', { 'job-id': target, device: d.node, target, sync: 'full' });
    }
    for (const d of disks)
      await src.wait((e) => e.event === 'BLOCK_JOB_READY' && e.data.device === `mig-${d.node}`, 300_000, from, 'BLOCK_JOB_READY');
    await src.cmd('migrate-set-capabilities', {
      capabilities: [
        { capability: 'events', state: true },
        { capability: 'pause-before-switchover', state: true },
        { capability: 'auto-converge', state: false },
      ],
    });
    await src.cmd('migrate-set-parameters', { 'max-bandwidth': BANDWIDTH_MIBS * MiB, 'downtime-limit': DOWNTIME_MS });
    await src.cmd('migrate', { uri: `unix:${stream}` });
    const paused = await src.wait(
      (e) => e.event === 'MIGRATION' && ['pre-switchover', 'failed', 'cancelled'].includes(e.data.status),
      300_000,
      from,
      'pre-switchover',
    );
    if (paused.data.status !== 'pre-switchover') throw new Error(`the migration by hand ${paused.data.status}`);
    const cancelFrom = src.events.length;
    for (const d of disks) await src.cmd('block-job-cancel', { device: `mig-${d.node}` });
    for (const d of disks)
      await src.wait(
        (e) => e.event === 'BLOCK_JOB_COMPLETED' && e.data.device === `mig-${d.node}`,
        60_000,
        cancelFrom,
        'BLOCK_JOB_COMPLETED',
      );
    await src.cmd('migrate-continue', { state: 'pre-switchover' });
    const ended = await src.wait(
      (e) => e.event === 'MIGRATION' && ['completed', 'failed', 'cancelled'].includes(e.data.status),
      60_000,
      from,
      'completed',
    );
    if (ended.data.status !== 'completed') throw new Error(`the migration by hand ${ended.data.status} at switchover`);
    await dst.wait((e) => e.event === 'MIGRATION' && e.data.status === 'completed', 60_000, 0, 'completed on the destination');
    await dst.cmd('nbd-server-stop');
    const resumeFrom = dst.events.length;
    await dst.cmd('cont');
    const continued = performance.now();
    const resumed = await dst.wait((e) => e.event === 'RESUME', 10_000, resumeFrom, 'RESUME');
    // The MIGRATION completed event comes before QEMU has computed the downtime: ask until it has.
    let info = await src.cmd('query-migrate');
    for (let i = 0; i < 100 && !(info['total-time'] > 0); i++) {
      await sleep(5);
      info = await src.cmd('query-migrate');
    }
    await src.cmd('quit').catch(() => undefined);
    await guest.exited;
    const trace = process.env.BENCH_MIGRATION_TRACE ? fs.readFileSync(path.join(guest.dir, 'qemu.log'), 'utf8') : null;
    // The source's copy removed, as VMDesk removes the machine's folder here before its totalMs ends.
    fs.rmSync(guest.dir, { recursive: true, force: true });
    const end = performance.now();

    guest.console.close();
    guest.qmp.close();
    // Started in the background, this QEMU is nobody's child here: its pid, then its end.
    const pidFile = args[args.indexOf('-pidfile') + 1];
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await dst.cmd('quit').catch(() => undefined);
    dst.close();
    for (const [l, r] of forwards) await unforward(l, r);
    if ((await gone([pid], 5000)).length) kill(pid);
    fs.rmSync(dir, { recursive: true, force: true });
    if (trace !== null) console.error(trace);
    return {
      totalMs: end - t0,
      // As VMDesk counts it: from pre-switchover until the destination's `cont` has answered.
      downtimeMs: continued - paused.at,
      qemuDowntimeMs: info.downtime,
      downtimeBytes: info.ram?.['downtime-bytes'] ?? NaN,
      ramBytes: info.ram?.transferred ?? 0,
      phases: phasesOf(t0, end, src, resumed, from),
      // Until the mirror starts: no checks; the folder, its files and QEMU in one command; then NBD, the exports, the forwards.
      prepare: [0, started - t0],
    };
  }

  /** Where the time went, from the QMP events of the source (and the destination's RESUME). */
  function phasesOf(t0, end, log, resumed, from = 0) {
    const at = (accept) => log.events.slice(from).find(accept)?.at ?? NaN;
    const migration = (status) => at((e) => e.event === 'MIGRATION' && e.data.status === status);
    const mirrorStart = at((e) => e.event === 'JOB_STATUS_CHANGE' && e.data.status === 'created');
    const ready = at((e) => e.event === 'BLOCK_JOB_READY');
    const setup = migration('setup');
    const preSwitchover = migration('pre-switchover');
    const mirrorDone = at((e) => e.event === 'BLOCK_JOB_COMPLETED');
    const completed = migration('completed');
    const stop = at((e) => e.event === 'STOP');
    const resume = resumed?.at ?? NaN;
    const passes = log.events
      .slice(from)
      .filter((e) => e.event === 'MIGRATION_PASS')
      .reduce((n, e) => Math.max(n, e.data.pass ?? 0), 0);
    return {
      prepare: mirrorStart - t0,
      mirror: ready - mirrorStart,
      readyToMigrate: setup - ready,
      precopy: preSwitchover - setup,
      mirrorDone: mirrorDone - preSwitchover,
      continued: completed - mirrorDone,
      completedToResume: resume - completed,
      resumeToEnd: end - resume,
      paused: resume - stop,
      passes,
      precopyWindow: [setup, preSwitchover],
    };
  }

  const label = (memory, load) => `${memory} MiB, ${load}`;
  let runIndex = 0;
  for (const memory of MEMORIES) {
    for (const load of LOADS) {
      for (let r = 0; r < RUNS; r++, runIndex++) {
        const template = path.join(hand, `t${runIndex}`);
        const name = `g${memory}`;
        // The three sources of this run boot together, then wait (idle) for their turn.
        const vm = await startVmdeskGuest(name, memory, template);
        const guests = { vmdesk: vm };
        for (const method of ['ssh', 'plain']) guests[method] = await startHandGuest(method, vm, template);
        await Promise.all(METHODS.map((m) => guests[m].console.when(PROMPT)));
        // The demo guest keeps its vCPU busy ~20 s after its prompt: until all three are idle, the two
        // waiting their turn would take CPU from the one migrated, by an amount that depends on the turn.
        if (process.env.BENCH_MIGRATION_SETTLE !== '0') await Promise.all(METHODS.map((m) => settle(guests[m].pid)));
        await sleep(3000);
        const order = METHODS.map((_, i) => METHODS[(i + runIndex) % METHODS.length]);
        for (const method of order) {
          const guest = guests[method];
          if (load === 'dirty') {
            // Typed; the next prompt comes once the random bytes are made and the loop runs in the background.
            const prompts = guest.console.count(PROMPT);
            guest.console.type(DIRTY_LOOP);
            await guest.console.when(PROMPT, prompts + 1, 60_000);
            await sleep(1500);
          }
          if (method === 'ssh') await newConnection();
          const cpu = cpuSampler();
          const tcp0 = { here: tcpRecovery(), lab: tcpRecovery(lab.netns) };
          // Stopped on failure too: its interval would keep the bench alive after the clean-up.
          const result = await (method === 'vmdesk' ? migrateVmdesk(guest) : migrateByHand(guest, vm, template, method === 'ssh')).finally(
            () => cpu.stop(),
          );
          const tcp1 = { here: tcpRecovery(), lab: tcpRecovery(lab.netns) };
          const tcp = (side) => Object.fromEntries(Object.keys(tcp0[side]).map((k) => [k, tcp1[side][k] - tcp0[side][k]]));
          const tcpText = (side) => {
            const d = tcp(side);
            return `${d.timeouts} timeouts, ${d.lossProbes} loss probes, ${d.retrans} resent`;
          };
          samples.push({ memory, load, run: r, method, ...result, precopyCpu: cpu.between(...result.phases.precopyWindow) });
          console.error(
            `${label(memory, load)} run ${r + 1} ${method}: total ${fmt(result.totalMs)}, downtime ${fmt(result.downtimeMs)} ` +
              `(QEMU: ${result.qemuDowntimeMs} ms, ${(result.downtimeBytes / MiB).toFixed(1)} MiB sent paused), ` +
              `paused ${fmt(result.phases.paused)}, ${result.phases.passes} passes, ${Math.round(result.ramBytes / MiB)} MiB; ` +
              `TCP here: ${tcpText('here')}; lab: ${tcpText('lab')}`,
          );
          await sleep(1000);
        }
        fs.rmSync(template, { recursive: true, force: true });
      }
    }
  }

  // --- Tables: medians per case. ---
  const pick = (memory, load, method) => samples.filter((s) => s.memory === memory && s.load === load && s.method === method);
  const med = (list, get) => median(list.map(get));
  const total = (list) => med(list, (x) => x.totalMs);
  const down = (list) => med(list, (x) => x.downtimeMs ?? NaN);
  const qemuDown = (list) => med(list, (x) => x.qemuDowntimeMs ?? NaN);
  const ms = (v) => (Number.isFinite(v) ? fmt(v) : '—');
  const out = [
    `migration (${machineInfo()}, load average ${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end; ` +
      `max-bandwidth ${BANDWIDTH_MIBS ? `${BANDWIDTH_MIBS} MiB/s` : 'none'}, downtime-limit ${DOWNTIME_MS} ms; medians of ${RUNS})`,
    '',
    "| guest | total: VMDesk | total: by hand over SSH | ratio | goal ≤ 1.1 | downtime (paused until it runs there): VMDesk | by hand over SSH | goal ≤ 1.1× + 5 ms | QEMU's downtime: VMDesk | by hand over SSH |",
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const memory of MEMORIES) {
    for (const load of LOADS) {
      const [v, h] = ['vmdesk', 'ssh'].map((m) => pick(memory, load, m));
      const ratio = total(v) / total(h);
      const limit = 1.1 * down(h) + 5;
      out.push(
        `| ${label(memory, load)} | ${fmt(total(v))} | ${fmt(total(h))} | ${ratio.toFixed(3)} | ${ratio <= 1.1 ? 'met' : 'missed'} | ` +
          `${ms(down(v))} | ${ms(down(h))} | ${down(v) <= limit ? 'met' : 'missed'} (≤ ${fmt(limit)}) | ${ms(qemuDown(v))} | ${ms(qemuDown(h))} |`,
      );
    }
  }
  out.push(
    '',
    'What SSH costs: the same migration by hand over SSH and over a plain unix socket between two local QEMUs.',
    '',
    "| guest | total: SSH | total: plain | SSH / plain | downtime: SSH | plain | QEMU's downtime: SSH | plain | RAM pre-copy: SSH | plain |",
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const memory of MEMORIES) {
    for (const load of LOADS) {
      const [h, p] = ['ssh', 'plain'].map((m) => pick(memory, load, m));
      const precopy = (list) => med(list, (x) => x.phases.precopy);
      out.push(
        `| ${label(memory, load)} | ${fmt(total(h))} | ${fmt(total(p))} | ${(total(h) / total(p)).toFixed(3)} | ${ms(down(h))} | ${ms(down(p))} | ` +
          `${ms(qemuDown(h))} | ${ms(qemuDown(p))} | ${fmt(precopy(h))} | ${fmt(precopy(p))} |`,
      );
    }
  }
  out.push(
    '',
    'The downtime follows what QEMU leaves for the stop-and-copy: it pauses the guest once what is left would take no longer',
    'than the downtime limit at the throughput it measured, so what it then sends paused (downtime-bytes) differs from run to',
    'run, for every way alike. Each run: MiB sent paused / downtime.',
    '',
    '| guest | way | sent paused (median) | downtime (median, min–max) | each run |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const memory of MEMORIES)
    for (const load of LOADS)
      for (const method of METHODS) {
        const list = pick(memory, load, method);
        const downs = list.map((x) => x.downtimeMs ?? NaN);
        out.push(
          `| ${label(memory, load)} | ${method} | ${(med(list, (x) => x.downtimeBytes) / MiB).toFixed(1)} MiB | ` +
            `${ms(down(list))} (${ms(Math.min(...downs))}–${ms(Math.max(...downs))}) | ` +
            `${list.map((x) => `${(x.downtimeBytes / MiB).toFixed(1)} / ${ms(x.downtimeMs ?? NaN)}`).join(', ')} |`,
        );
      }
  const cpuTable = [
    '',
    "CPU used during the RAM pre-copy (from `migrate`'s setup to pre-switchover; medians, ms of CPU; /proc every 100 ms, both",
    "hosts' processes: they share this machine). VMDesk (Node): its CLI, the agents, the destination's `vmdesk stdio`.",
    '',
    `| guest | way | pre-copy | ${[...CPU_KINDS.map(([k]) => k), 'other', 'reaped children', 'sshd syscalls', 'sshd MiB read'].join(' | ')} |`,
    `| --- | --- | --- | ${[...CPU_KINDS, 'o', 'r', 's', 'm'].map(() => '---').join(' | ')} |`,
  ];
  for (const memory of MEMORIES)
    for (const load of LOADS)
      for (const method of METHODS) {
        const list = pick(memory, load, method).filter((x) => x.precopyCpu);
        if (list.length === 0) continue;
        const kinds = [...CPU_KINDS.map(([k]) => k), 'other', 'reaped children', 'sshd syscalls', 'sshd MiB read'];
        cpuTable.push(
          `| ${label(memory, load)} | ${method} | ${fmt(med(list, (x) => x.precopyCpu.ms))} | ` +
            // The last two are a count of calls and MiB, not ms.
            `${kinds.map((k) => (k.startsWith('sshd ') ? String(Math.round(med(list, (x) => x.precopyCpu[k]))) : fmt(med(list, (x) => x.precopyCpu[k])))).join(' | ')} |`,
        );
      }
  // QEMU's threads: those that used 20 ms or more in some way's median.
  const threadKeys = [...new Set(samples.flatMap((x) => Object.keys(x.precopyCpu?.threads ?? {})))].sort();
  const threadRows = [];
  for (const memory of MEMORIES)
    for (const load of LOADS)
      for (const method of METHODS) {
        const list = pick(memory, load, method).filter((x) => x.precopyCpu);
        if (list.length)
          threadRows.push({
            label: `${label(memory, load)} | ${method}`,
            values: threadKeys.map((k) => med(list, (x) => x.precopyCpu.threads[k] ?? 0)),
          });
      }
  const shown = threadKeys.map((_, i) => threadRows.some((r) => r.values[i] >= 20));
  const keys = threadKeys.filter((_, i) => shown[i]);
  if (keys.length)
    cpuTable.push(
      '',
      "QEMU's threads during the RAM pre-copy (medians, ms of CPU), by QEMU (the destination's argv has -incoming) and thread name:",
      '',
      `| guest | way | ${keys.join(' | ')} |`,
      `| --- | --- | ${keys.map(() => '---').join(' | ')} |`,
      ...threadRows.map(
        (r) =>
          `| ${r.label} | ${r.values
            .filter((_, i) => shown[i])
            .map(fmt)
            .join(' | ')} |`,
      ),
    );
  const switchKeys = [...new Set(samples.flatMap((x) => Object.keys(x.precopyCpu?.switches ?? {})))].sort();
  for (const memory of MEMORIES)
    for (const load of LOADS)
      for (const method of METHODS) {
        const list = pick(memory, load, method).filter((x) => x.precopyCpu);
        if (!list.length || !switchKeys.length) continue;
        if (!cpuTable.some((l) => l.startsWith("The migration threads' context switches")))
          cpuTable.push(
            '',
            "The migration threads' context switches during the RAM pre-copy (medians): waited (voluntary), preempted.",
            '',
            `| guest | way | ${switchKeys.join(' | ')} |`,
            `| --- | --- | ${switchKeys.map(() => '---').join(' | ')} |`,
          );
        cpuTable.push(
          `| ${label(memory, load)} | ${method} | ${switchKeys.map((k) => String(Math.round(med(list, (x) => x.precopyCpu.switches[k] ?? 0)))).join(' | ')} |`,
        );
      }
  const detail = [
    '',
    'Where the time goes (medians), from the QMP events of the source QEMU (for VMDesk as its agent passes them on) and the',
    "destination's RESUME; VMDesk's span is its totalMs, the CLI's own start and end outside it.",
    '',
    '| guest | way | until the mirror starts | disk mirror | mirror ready → `migrate` | RAM pre-copy | pre-switchover → mirrors completed | → migration completed | → destination runs | → done | guest paused (STOP → RESUME) | passes | RAM sent |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const way = { vmdesk: 'VMDesk', ssh: 'by hand, SSH', plain: 'by hand, plain' };
  for (const memory of MEMORIES) {
    for (const load of LOADS) {
      for (const method of METHODS) {
        const list = pick(memory, load, method);
        const ph = (k) => ms(med(list, (x) => x.phases[k]));
        detail.push(
          `| ${label(memory, load)} | ${way[method]} | ${ph('prepare')} | ${ph('mirror')} | ${ph('readyToMigrate')} | ${ph('precopy')} | ` +
            `${ph('mirrorDone')} | ${ph('continued')} | ${ph('completedToResume')} | ${ph('resumeToEnd')} | ${ph('paused')} | ` +
            `${med(list, (x) => x.phases.passes)} | ${Math.round(med(list, (x) => x.ramBytes) / MiB)} MiB |`,
        );
      }
    }
  }
  detail.push(
    '',
    'Until the mirror starts, split (medians of all runs):',
    '',
    '| way | checks (until the folder is made there) | folder, disk, files, QEMU up (VMDesk: until its agent listens) | then NBD, exports, forwards, mirror start | in all |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const method of METHODS) {
    const list = samples.filter((s) => s.method === method);
    const checks = median(list.map((s) => s.prepare[0]));
    const setUp = median(list.map((s) => s.prepare[1]));
    const rest = median(list.map((s) => s.phases.prepare - s.prepare[0] - s.prepare[1]));
    const all = median(list.map((s) => s.phases.prepare));
    detail.push(`| ${way[method]} | ${method === 'vmdesk' ? fmt(checks) : '—'} | ${fmt(setUp)} | ${fmt(rest)} | ${fmt(all)} |`);
  }
  const cli = samples.filter((s) => s.method === 'vmdesk');
  detail.push(
    '',
    `Outside VMDesk's totalMs, the \`vmdesk migrate\` command spent ${fmt(median(cli.map((s) => s.cliBeforeMs)))} before it (Node's start, ` +
      `the ssh connection to ${ALIAS} and its \`vmdesk stdio\`) and ${fmt(median(cli.map((s) => s.cliAfterMs)))} after it (medians of all its runs).`,
  );
  console.log([...out, ...detail, ...cpuTable].join('\n'));
  if (process.env.BENCH_MIGRATION_JSON) fs.writeFileSync(process.env.BENCH_MIGRATION_JSON, JSON.stringify(samples, null, 1));
} catch (err) {
  for (const s of samples)
    console.log(
      `${s.memory} MiB ${s.load} ${s.method}: total ${fmt(s.totalMs)}, downtime ${s.downtimeMs} ms (QEMU: ${s.qemuDowntimeMs} ms)`,
    );
  console.error(err);
  process.exitCode = 1;
} finally {
  await lab.cleanup();
}
