// A second host for the benchmarks that need one over SSH (remote.mjs, migration.mjs): OpenSSH's sshd
// in a network namespace of its own, reached over a veth pair with its own address, host key,
// authorized key, library and runtime dir — the recipe of src-main/integration/ssh-host.ts (which tsc
// does not emit to dist/), done here in plain JS. Root only. Everything a lab made (namespace, veth,
// sshd, ssh clients, QEMUs, agents, folders) is taken down by its cleanup(), also on failure and on
// signals.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI } from './lib.mjs';

export const SSHD = '/usr/sbin/sshd';
export const PORT = 2222;
/** The name of the lab host, in its ssh_config and in VMDesk's hosts. */
export const ALIAS = 'lab';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a program to its end; its stdout, or an error naming its stderr. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export function shellQuote(word) {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function kill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Waits until none of `pids` runs (or timeoutMs); the ones still running. */
export async function gone(pids, timeoutMs = 5000) {
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

/** Processes whose command line names `needle` (a path unique to this run): ssh clients, hand-started QEMUs. */
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

/** Why a lab cannot be made here (not root, no sshd, a command missing), or null. */
export function labUnavailable(moreCommands = []) {
  if (process.getuid?.() !== 0) return 'needs root (a network namespace, a veth pair, sshd)';
  if (!fs.existsSync(SSHD)) return `needs ${SSHD} (openssh-server)`;
  for (const [cmd, args] of [['ssh', ['-V']], ['ssh-keygen', ['-?']], ['ip', ['-V']], ['nsenter', ['--version']], ...moreCommands])
    if (spawnSync(cmd, args).error) return `needs ${cmd}`;
  return null;
}

/** The CLI's arguments that add a lab (what SshLab.start() resolved with) to VMDesk's hosts as ALIAS, its host key accepted. */
export function hostsAddArgs(host) {
  return [
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
  ];
}

/**
 * One run's lab and everything it made, with its take-down (idempotent; run on SIGINT, SIGTERM and
 * SIGHUP too). Besides what start() makes, a benchmark hands it what to end and remove: `children`
 * (processes it spawned), `sb` (its local library, from lib.mjs's sandbox()), `scratch` (folders of
 * its own: a process whose argv names one is ended, then the folder removed) and, through the
 * constructor, `sockets` (a set of open sockets, destroyed first).
 */
export class SshLab {
  netnsAdded = false;
  veth = '';
  /** The lab's own folder: keys, configs, sshd's log, the remote library (remote-home). */
  dir = '';
  /** The remote VMDesk's runtime dir. */
  remoteRuntime = '';
  listener = undefined;
  sb = undefined;
  children = [];
  scratch = [];
  #stopping;

  /**
   * @param {string} name the benchmark's file, for messages
   * @param {{ netnsPrefix: string, slotOffset: number, sockets?: Set<import('node:net').Socket> }} options
   *   the namespace is `${netnsPrefix}-PID-0`; the search for a free /30 starts at PID * 16 + slotOffset
   */
  constructor(name, { netnsPrefix, slotOffset, sockets = new Set() }) {
    this.name = name;
    this.netns = `${netnsPrefix}-${process.pid}-0`;
    this.slotOffset = slotOffset;
    this.sockets = sockets;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(signal, () => {
        console.error(`${name}: ${signal}, cleaning up`);
        void this.cleanup().finally(() => process.exit(130));
      });
    }
  }

  /**
   * sshd in a network namespace, joined by a veth pair with a free /30 of 10.203.0.0/16. Resolves
   * with what reaches it: its address, an ssh_config naming it ALIAS, the known_hosts file that
   * config uses (empty), its host key's fingerprint, a folder for the remote library and the command
   * that runs VMDesk there.
   */
  async start() {
    this.dir = fs.mkdtempSync('/tmp/vsh-');
    // Short on purpose: unix socket paths must stay under 107 bytes.
    this.remoteRuntime = fs.mkdtempSync('/tmp/vrr-');
    const dir = this.dir;
    const remoteHome = path.join(dir, 'remote-home');
    fs.mkdirSync(remoteHome);

    run('ip', ['netns', 'add', this.netns]);
    this.netnsAdded = true;
    // A free /30, claimed by creating the root-side link under the slot's name (as ssh-host.ts does).
    const used = run('ip', ['-4', '-o', 'addr', 'show']);
    let root;
    let address;
    for (let i = 0; i < 16384 && !this.veth; i++) {
      const slot = (process.pid * 16 + this.slotOffset + i) % 16384;
      const base = `10.203.${(slot * 4) >> 8}.`;
      const low = (slot * 4) & 255;
      const quad = [0, 1, 2, 3].map((n) => `${base}${low + n}`);
      if (quad.some((a) => used.includes(` ${a}/`))) continue;
      const r = spawnSync('ip', ['link', 'add', `vsh${slot}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.netns], {
        encoding: 'utf8',
      });
      if (r.status === 0) [this.veth, root, address] = [`vsh${slot}`, quad[1], quad[2]];
      else if (!/exists/i.test(r.stderr)) throw new Error(`ip link add failed: ${r.stderr}`);
    }
    if (!this.veth) throw new Error('no free /30 in 10.203.0.0/16');
    run('ip', ['addr', 'add', `${root}/30`, 'dev', this.veth]);
    run('ip', ['link', 'set', this.veth, 'up']);
    run('ip', ['-n', this.netns, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', this.netns, 'addr', 'add', `${address}/30`, 'dev', 'eth0']);
    run('ip', ['-n', this.netns, 'link', 'set', 'eth0', 'up']);

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
    this.listener = spawn('nsenter', [`--net=/run/netns/${this.netns}`, '--', SSHD, '-D', '-e', '-f', sshdConfig], {
      stdio: ['ignore', log, log],
    });
    this.listener.unref();
    fs.closeSync(log);
    const deadline = Date.now() + 10_000;
    while (!(await sshBanner(address, PORT))) {
      if (this.listener.exitCode !== null || Date.now() > deadline)
        throw new Error(`sshd did not start:\n${fs.readFileSync(path.join(dir, 'sshd.log'), 'utf8')}`);
      await sleep(50);
    }
    const fingerprint = /SHA256:\S+/.exec(run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]))?.[0];
    const remoteCommand = ['env', `VMDESK_RUNTIME_DIR=${this.remoteRuntime}`, process.execPath, CLI].map(shellQuote).join(' ');
    return { address, sshConfig, knownHostsFile, fingerprint, remoteHome, remoteCommand };
  }

  /**
   * An ssh ControlMaster to the lab (one connection kept open, as VMDesk's is); its control socket once
   * it listens. `name` tells apart the masters of one lab (a new connection per migration).
   */
  async controlMaster(host, env, name = 'cm') {
    const control = path.join(this.dir, `${name}.sock`);
    // BENCH_SSH_MASTER_SESSION=1: the connection also carries a session (a remote `sleep`), as
    // VMDesk's carries its `vmdesk stdio`: ssh and sshd then set TCP_NODELAY on it.
    const session = process.env.BENCH_SSH_MASTER_SESSION === '1' ? [ALIAS, 'sleep 86400'] : ['-N', ALIAS];
    const master = spawn('ssh', ['-F', host.sshConfig, '-o', 'BatchMode=yes', '-M', '-S', control, ...session], {
      env,
      stdio: 'ignore',
    });
    this.children.push(master);
    for (let deadline = Date.now() + 15_000; !fs.existsSync(control); await sleep(20))
      if (Date.now() > deadline) throw new Error('the ssh control master did not start');
    return { master, control };
  }

  cleanup() {
    this.#stopping ??= (async () => {
      const problems = [];
      for (const socket of this.sockets) socket.destroy();
      for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await gone(this.children.map((c) => c.pid).filter(Boolean), 3000);
      for (const child of this.children) if (child.pid && isAlive(child.pid)) kill(child.pid);
      // ssh clients of this run (a ControlMaster, VMDesk's connection, forwards) name this run's
      // ssh_config; QEMUs a benchmark started by hand name its scratch folders.
      const mine = [this.dir, ...this.scratch].filter(Boolean).flatMap((dir) => pidsMentioning(`${dir}/`));
      // The remote library's machines (QEMU, agents), the listener, sessions, a remote VMDesk.
      const remote = [
        ...(this.remoteRuntime ? runtimePids(this.remoteRuntime) : []),
        ...(this.netnsAdded ? namespacePids(this.netns) : []),
        ...(this.listener?.pid ? [this.listener.pid] : []),
      ];
      const local = this.sb ? runtimePids(this.sb.runtime) : [];
      for (const pid of [...mine, ...remote, ...local]) kill(pid);
      const left = await gone([...mine, ...remote, ...local]);
      if (left.length) problems.push(`still running: ${left.join(' ')}`);
      if (this.veth && spawnSync('ip', ['link', 'show', this.veth]).status === 0) {
        const r = spawnSync('ip', ['link', 'del', this.veth], { encoding: 'utf8' });
        if (r.status !== 0) problems.push(`ip link del ${this.veth}: ${r.stderr}`);
      }
      if (this.netnsAdded) {
        const r = spawnSync('ip', ['netns', 'del', this.netns], { encoding: 'utf8' });
        if (r.status !== 0) problems.push(`ip netns del ${this.netns}: ${r.stderr}`);
        this.netnsAdded = false;
      }
      this.sb?.cleanup();
      for (const dir of [this.dir, this.remoteRuntime, ...this.scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
      if (problems.length) console.error(`${this.name} clean-up: ${problems.join('; ')}`);
    })();
    return this.#stopping;
  }
}
