/**
 * A real second host for remote-host tests: sshd in a network namespace of its own, reached from the
 * root namespace over a veth pair with a private /30 from 10.203.0.0/16, with its own host key and a
 * client key authorized for root. The test side gets an ssh_config (for VMDESK_SSH_CONFIG) whose
 * alias points at it, and the remote command that runs this checkout's CLI there.
 *
 * The namespace is a network namespace only: sshd is started with `nsenter --net`, not `ip netns
 * exec`, so the "remote" shares the test's mount namespace. `ip netns exec` gives its process a
 * mount namespace of its own, copied when sshd starts; where / is a private mount (this machine, most
 * containers) a mount made later on the test side (readOnlyDir, loopMount) would never reach the
 * remote sessions, which would write under it into the plain directory.
 *
 * Root only, and host-wide state (namespaces, links, mounts): used from *.serial.test.ts files.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, commandLines } from './harness.js';
import { IS_ROOT } from './skip.js';

const SSHD = '/usr/sbin/sshd';
const PORT = 2222;
/** Root-side veth names claim /30 slots host-wide: `vsh<slot>`, slot 0..16383 of 10.203.0.0/16. */
const SLOTS = 16384;

export interface SshHost {
  /** The Host alias in sshConfig ('lab' unless named). */
  readonly alias: string;
  /** sshd's address, in the namespace. */
  readonly address: string;
  readonly port: number;
  /** The network namespace's name (`ip netns list`). */
  readonly netns: string;
  /** The root-side end of the veth pair. */
  readonly veth: string;
  /** The host's temp dir: keys, configs, sshd.log. */
  readonly dir: string;
  /** The client ssh_config for the test side: pass it as VMDESK_SSH_CONFIG (ssh -F). */
  readonly sshConfig: string;
  /** The UserKnownHostsFile sshConfig names; starts empty. */
  readonly knownHostsFile: string;
  /** The client private key authorized for root. */
  readonly identity: string;
  /** A client private key that is not authorized. */
  readonly otherIdentity: string;
  /** `SHA256:...` of the current host key. */
  readonly fingerprint: string;
  /** An empty library dir for the remote VMDesk (VMDESK_HOME). */
  readonly remoteHome: string;
  /** The remote VMDesk's runtime dir (short: unix sockets). */
  readonly remoteRuntime: string;
  /** For the remote shell: this checkout's CLI with VMDESK_RUNTIME_DIR=remoteRuntime. */
  readonly remoteCommand: string;
  /**
   * ssh to the host with the authorized key, checking its host key against a file of the harness's
   * own (sshConfig's known_hosts is left alone). `args` follow the alias: ssh options first if any
   * (`-o ConnectTimeout=1`; ssh reads options after the destination too, and the first value of an
   * option wins), then the remote command, which is their concatenation run by the remote shell.
   */
  ssh(args: string[], options?: { timeoutMs?: number; input?: string }): SpawnSyncReturns<string>;
  /** Kills every sshd session process (not the listener, not their commands): every connection is cut from the server side. */
  killSessions(): Promise<number>;
  /**
   * The cable pulled: carrier lost on both ends, packets dropped. Connecting times out, or fails with
   * 'No route to host' after some 3 s of unanswered ARP once the neighbour entry has expired; an
   * established connection hangs (sshd gives up on it after 15 s: ClientAliveInterval 5, 3 tries).
   */
  linkDown(): Promise<void>;
  /** The cable back in; resolves once both ends have their carrier (packets sent before are lost). */
  linkUp(): Promise<void>;
  /** A new host key, sshd restarted with it on the same address and port; `fingerprint` follows. */
  changeHostKey(): Promise<void>;
  /** A directory no one can write, root included (a read-only tmpfs), unmounted at stop. */
  readOnlyDir(): string;
  /** Kills everything in the namespace, removes it, the link, the mounts and the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The ssh ControlMasters VMDesk runs for a runtime dir (its SSH connections: `-M -S` sockets under
 * that dir), with their argv.
 */
export function sshMasters(runtimeDir: string): Array<{ pid: number; argv: string[] }> {
  return [...commandLines()]
    .filter(({ args }) => args[0] === 'ssh' && args.includes('-M') && args.some((a) => a.startsWith(`${runtimeDir}/`)))
    .map(({ pid, args }) => ({ pid, argv: args }));
}

/** Why startSshHost cannot run here, or null. */
export function sshHostUnavailable(): string | null {
  if (!IS_ROOT) return 'needs root (a network namespace, a veth pair, sshd); CI runs as root';
  if (!fs.existsSync(SSHD)) return `needs ${SSHD} (openssh-server)`;
  for (const [cmd, args, pkg] of [
    ['ssh', ['-V'], 'openssh-client'],
    ['ssh-keygen', ['-?'], 'openssh-client'],
    ['ip', ['-V'], 'iproute2'],
    ['nsenter', ['--version'], 'util-linux'],
  ] as const) {
    if (spawnSync(cmd, args).error) return `needs ${cmd} (${pkg})`;
  }
  return null;
}

let counter = 0;

export async function startSshHost(options: { name?: string } = {}): Promise<SshHost> {
  const alias = options.name ?? 'lab';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(alias)) throw new Error(`not a plain ssh Host alias: ${alias}`);
  reapStaleNamespaces();

  const netns = `vmd-${process.pid}-${counter++}`;
  const made = new Made(netns);
  try {
    made.dir = fs.mkdtempSync('/tmp/vsh-');
    // Short on purpose: unix socket paths must stay under 107 bytes.
    made.remoteRuntime = fs.mkdtempSync('/tmp/vrr-');
    const dir = made.dir;
    const remoteHome = path.join(dir, 'remote-home');
    fs.mkdirSync(remoteHome);

    run('ip', ['netns', 'add', netns]);
    made.netnsAdded = true;
    const { veth, root, address } = claimSlot(netns);
    made.veth = veth;
    run('ip', ['addr', 'add', `${root}/30`, 'dev', veth]);
    run('ip', ['link', 'set', veth, 'up']);
    for (const cmd of [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', `${address}/30`, 'dev', 'eth0'],
      ['link', 'set', 'eth0', 'up'],
    ]) {
      run('ip', ['-n', netns, ...cmd]);
    }

    const hostKey = path.join(dir, 'hostkey-0');
    const identity = path.join(dir, 'id_ed25519');
    const otherIdentity = path.join(dir, 'other_ed25519');
    for (const key of [hostKey, identity, otherIdentity]) keygen(key);
    fs.copyFileSync(`${identity}.pub`, path.join(dir, 'authorized_keys'));
    const knownHostsFile = path.join(dir, 'known_hosts');
    fs.writeFileSync(knownHostsFile, '');
    const sshConfig = path.join(dir, 'ssh_config');
    fs.writeFileSync(
      sshConfig,
      [
        `Host ${alias}`,
        `  HostName ${address}`,
        `  Port ${PORT}`,
        '  User root',
        `  IdentityFile ${identity}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${knownHostsFile}`,
        '  GlobalKnownHostsFile /dev/null',
        '',
        // The developer's agent (and its keys) never take part.
        'Host *',
        '  IdentityAgent none',
        '',
      ].join('\n'),
    );

    fs.mkdirSync('/run/sshd', { recursive: true });
    made.sshdConfig = path.join(dir, 'sshd_config');
    made.address = address;
    made.writeSshdConfig(hostKey);
    await made.startSshd();
    made.trustHostKey(hostKey);

    const remoteCommand = ['env', `VMDESK_RUNTIME_DIR=${made.remoteRuntime}`, process.execPath, CLI].map(shellQuote).join(' ');
    const harnessKnownHosts = path.join(dir, 'known_hosts.harness');
    let readOnlyCount = 0;

    const host: SshHost = {
      alias,
      address,
      port: PORT,
      netns,
      veth,
      dir,
      sshConfig,
      knownHostsFile,
      identity,
      otherIdentity,
      get fingerprint() {
        return made.fingerprint;
      },
      remoteHome,
      remoteRuntime: made.remoteRuntime,
      remoteCommand,
      ssh(args, opts = {}) {
        return spawnSync(
          'ssh',
          [
            ...['-F', sshConfig, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'],
            ...['-o', `UserKnownHostsFile=${harnessKnownHosts}`],
            alias,
            ...args,
          ],
          { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, input: opts.input ?? '' },
        );
      },
      async killSessions() {
        const sessions = namespacePids(netns).filter((pid) => pid !== made.listener?.pid && isSshd(pid));
        for (const pid of sessions) kill(pid);
        await gone(sessions, 5000);
        return sessions.length;
      },
      // Down on the namespace side: the root side loses its carrier and keeps its route, so packets
      // are dropped rather than sent along the default route (where, on some machines, a proxy
      // accepts any TCP connection).
      async linkDown() {
        run('ip', ['-n', netns, 'link', 'set', 'eth0', 'down']);
        await carrier(netns, veth, false);
      },
      async linkUp() {
        run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
        await carrier(netns, veth, true);
        // A connect tried while down leaves the neighbour unresolved, its next ARP a second away.
        run('ip', ['neigh', 'flush', 'dev', veth]);
      },
      async changeHostKey() {
        const next = path.join(dir, `hostkey-${++made.hostKeys}`);
        keygen(next);
        await made.stopListener();
        made.writeSshdConfig(next);
        await made.startSshd();
        made.trustHostKey(next);
      },
      readOnlyDir() {
        const ro = path.join(dir, `read-only-${readOnlyCount++}`);
        fs.mkdirSync(ro);
        run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m,mode=0755', 'tmpfs', ro]);
        made.mounts.push(ro);
        return ro;
      },
      stop: () => made.stop(),
    };
    return host;
  } catch (err) {
    await made.stop().catch(() => undefined);
    throw err;
  }
}

/** What startSshHost has made so far, and how to take it down. */
class Made {
  dir = '';
  remoteRuntime = '';
  netnsAdded = false;
  veth = '';
  address = '';
  sshdConfig = '';
  listener: ChildProcess | undefined;
  fingerprint = '';
  hostKeys = 0;
  mounts: string[] = [];
  private stopping: Promise<void> | undefined;

  constructor(readonly netns: string) {}

  writeSshdConfig(hostKey: string): void {
    const lines = [
      `HostKey ${hostKey}`,
      `ListenAddress ${this.address}`,
      `Port ${PORT}`,
      `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
      `PidFile ${path.join(this.dir, 'sshd.pid')}`,
      // Without PAM sshd refuses a locked account ('!' in /etc/shadow) even for a key; with PAM it does not.
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
      'LogLevel VERBOSE',
    ];
    // OpenSSH 9.8+ shuts out an address for a while after failed logins and killed sessions, which
    // is what these tests do on purpose. Older sshd does not know the option (and does not need it).
    const penalties = [...lines, 'PerSourcePenalties no'];
    fs.writeFileSync(this.sshdConfig, `${penalties.join('\n')}\n`);
    const check = spawnSync(SSHD, ['-t', '-f', this.sshdConfig], { encoding: 'utf8' });
    if (check.status === 0) return;
    fs.writeFileSync(this.sshdConfig, `${lines.join('\n')}\n`);
    run(SSHD, ['-t', '-f', this.sshdConfig]);
  }

  async startSshd(): Promise<void> {
    const log = fs.openSync(path.join(this.dir, 'sshd.log'), 'a');
    let failed: Error | undefined;
    try {
      // nsenter execs sshd: the child's pid is the listener's.
      const child = spawn('nsenter', [`--net=/run/netns/${this.netns}`, '--', SSHD, '-D', '-e', '-f', this.sshdConfig], {
        stdio: ['ignore', log, log],
      });
      child.on('error', (err) => (failed = err));
      child.unref();
      this.listener = child;
    } finally {
      fs.closeSync(log);
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (failed) throw failed;
      if (this.listener.exitCode !== null || this.listener.signalCode !== null) throw new Error(`sshd exited:\n${this.log()}`);
      // The banner, not a bare connect: where the route is wrong, something else may accept.
      if (await sshBanner(this.address, PORT)) return;
      if (Date.now() > deadline) throw new Error(`sshd did not answer on ${this.address}:${PORT}:\n${this.log()}`);
      await sleep(50);
    }
  }

  async stopListener(): Promise<void> {
    const pid = this.listener?.pid;
    this.listener = undefined;
    if (pid === undefined) return;
    kill(pid);
    await gone([pid], 5000);
  }

  /** The fingerprint, and the known_hosts file of the harness's own ssh(). */
  trustHostKey(hostKey: string): void {
    const printed = run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]);
    const fingerprint = /SHA256:\S+/.exec(printed)?.[0];
    if (!fingerprint) throw new Error(`no fingerprint in: ${printed}`);
    this.fingerprint = fingerprint;
    const [type, key] = fs.readFileSync(`${hostKey}.pub`, 'utf8').split(/\s+/);
    fs.writeFileSync(path.join(this.dir, 'known_hosts.harness'), `[${this.address}]:${PORT} ${type} ${key}\n`);
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'sshd.log'), 'utf8');
    } catch {
      return '(no sshd.log)';
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.takeDown();
    return this.stopping;
  }

  private async takeDown(): Promise<void> {
    const problems: string[] = [];
    // Everything in the namespace: the listener, sessions, what they started (a remote VMDesk, QEMU).
    const pids = [...(this.netnsAdded ? namespacePids(this.netns) : []), ...(this.listener?.pid ? [this.listener.pid] : [])];
    for (const pid of pids) kill(pid);
    this.listener = undefined;
    const left = await gone(pids, 5000);
    if (left.length) problems.push(`still running: ${left.join(' ')}`);
    for (const mount of this.mounts.splice(0)) {
      if (spawnSync('umount', [mount]).status !== 0 && spawnSync('umount', ['-l', mount]).status !== 0)
        problems.push(`umount ${mount} failed`);
    }
    // The link first: deleting one end deletes the pair at once; a namespace goes in the background.
    if (this.veth && spawnSync('ip', ['link', 'show', this.veth]).status === 0) {
      const r = spawnSync('ip', ['link', 'del', this.veth], { encoding: 'utf8' });
      if (r.status !== 0) problems.push(`ip link del ${this.veth}: ${r.stderr}`);
    }
    if (this.netnsAdded) {
      const r = spawnSync('ip', ['netns', 'del', this.netns], { encoding: 'utf8' });
      if (r.status !== 0) problems.push(`ip netns del ${this.netns}: ${r.stderr}`);
      this.netnsAdded = false;
    }
    for (const dir of [this.dir, this.remoteRuntime]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (problems.length) throw new Error(`stopping the ssh host ${this.netns}: ${problems.join('; ')}`);
  }
}

/**
 * A free /30 for the pair, claimed by creating the root-side end under the slot's name (link names
 * are unique, so two processes cannot both get one); the other end is `eth0` in the namespace.
 */
function claimSlot(netns: string): { veth: string; root: string; address: string } {
  const used = run('ip', ['-4', '-o', 'addr', 'show']);
  const start = (process.pid * 16 + counter) % SLOTS;
  for (let i = 0; i < SLOTS; i++) {
    const slot = (start + i) % SLOTS;
    const base = `10.203.${(slot * 4) >> 8}.`;
    const low = (slot * 4) & 255;
    const [net, root, address, broadcast] = [0, 1, 2, 3].map((n) => `${base}${low + n}`);
    if ([net, root, address, broadcast].some((a) => used.includes(` ${a}/`))) continue;
    const veth = `vsh${slot}`;
    const r = spawnSync('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns], { encoding: 'utf8' });
    if (r.status === 0) return { veth, root: root ?? '', address: address ?? '' };
    if (!/exists/i.test(r.stderr)) throw new Error(`ip link add ${veth} failed: ${r.stderr || r.error?.message}`);
  }
  throw new Error('no free /30 in 10.203.0.0/16');
}

/** Namespaces `vmd-<pid>-<n>` whose process is gone (a test run killed before its stop()). */
function reapStaleNamespaces(): void {
  for (const line of run('ip', ['netns', 'list']).split('\n')) {
    const m = /^(vmd-(\d+)-\d+)\b/.exec(line);
    if (!m || isAlive(Number(m[2]))) continue;
    for (const pid of namespacePids(m[1] ?? '')) kill(pid);
    spawnSync('ip', ['netns', 'del', m[1] ?? '']);
  }
}

/**
 * Waits until both ends of the pair are operationally up, or the root side is not. Up is what the
 * kernel's linkwatch sets once it has started the queues: with the carrier alone, packets are dropped.
 */
async function carrier(netns: string, veth: string, up: boolean): Promise<void> {
  const isUp = (args: string[]): boolean => / state UP /.test(run('ip', ['-o', ...args]));
  const done = (): boolean =>
    up ? isUp(['link', 'show', veth]) && isUp(['-n', netns, 'link', 'show', 'eth0']) : !isUp(['link', 'show', veth]);
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`the link ${veth} did not go ${up ? 'up' : 'down'}`);
    await sleep(20);
  }
}

function namespacePids(netns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** sshd, or OpenSSH 9.8+'s sshd-session / sshd-auth. */
function isSshd(pid: number): boolean {
  try {
    return path.basename(fs.readlinkSync(`/proc/${pid}/exe`)).startsWith('sshd');
  } catch {
    return false;
  }
}

/** Running: exists and is not a zombie (orphans may wait a while for init to reap them). */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Waits until none of `pids` runs; returns those that still do at the deadline. */
async function gone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isAlive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(20);
  }
}

/** True when an SSH server's banner arrives from address:port within a second. */
function sshBanner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let seen = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (seen.includes('\n')) done(seen.startsWith('SSH-2.0-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

function rootLocked(): boolean {
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

function keygen(file: string): void {
  run('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-C', 'vmdesk-test', '-f', file]);
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
