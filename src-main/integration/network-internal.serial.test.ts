// Internal and bridged networking with real QEMU and the demo guest, through the real CLI.
// Internal: two machines on network "lab" talk (ping, a string sent with nc), a third on "other"
// with an address of the same subnet reaches neither; the switch outlives the CLI processes that
// started it and exits once its machines are gone. Bridged (root only): a bridge in a network
// namespace the test makes, busybox udhcpd and httpd on it; the guest gets a lease and fetches a page;
// a bridge the helper's ACL does not allow is refused with VMDesk's own explanation.
// Runs alone (*.serial.test.ts): as root it makes a network namespace and edits /etc/qemu/bridge.conf.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../core/fs/lock-file.js';
import { internalSwitchSocket } from '../core/network/internal-switch.js';
import { cacheHome } from '../core/paths.js';
import { CLI, IS_ROOT, guestSays, makeSandbox, needsRoot, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

/** Type a line into the guest, then wait for one of `answers` in what it prints afterwards. */
function guest(name: string, line: string, answers: RegExp, timeoutS = 30): Promise<string> {
  return guestSays(sb, name, line, answers, timeoutS);
}

/** Ping from `name`: 'yes' when an answer came back. The arithmetic keeps the answer out of the echo. */
async function ping(name: string, address: string): Promise<string> {
  const said = await guest(name, `ping -c 2 -W 2 ${address} >/dev/null 2>&1 && echo R=yes$((1+1)) || echo R=no$((1+1))`, /R=(yes|no)2/);
  return said === 'R=yes2' ? 'yes' : 'no';
}

async function createDemo(name: string, attach: string): Promise<void> {
  await ok(sb, ['create', name, '--demo', '--memory', '128']);
  await ok(sb, ['nic', name, '1', '--attach', attach]);
}

async function boot(name: string, env?: NodeJS.ProcessEnv, wrap: string[] = []): Promise<void> {
  const r = await runCli(['start', name], env, wrap);
  if (r.code !== 0) throw new Error(`vmdesk start ${name} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '90']);
}

/** The CLI, optionally under a wrapper (ip netns exec NS). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = sb.env,
  wrap: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  if (wrap.length === 0) return vmdesk(sb, args, { env });
  return new Promise((resolve) => {
    const child = spawn(wrap[0]!, [...wrap.slice(1), process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function switchPid(network: string): number {
  const pidFile = internalSwitchSocket(network, sb.env).replace(/\.sock$/, '.pid');
  return (JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { pid: number }).pid;
}

async function setAddress(name: string, cidr: string): Promise<void> {
  // udhcpc (started at boot on every interface) would flush the address on its next deconfig.
  await guest(
    name,
    `kill $(cat /run/udhcpc.eth0.pid); ip addr add ${cidr} dev eth0 && ip link set eth0 up && echo A=set$((1+1))`,
    /A=set2/,
  );
}

describe('internal networks', () => {
  it('puts two machines of network "lab" on one switch, which outlives the CLI that started it', async () => {
    await Promise.all([createDemo('lab1', 'internal:lab'), createDemo('lab2', 'internal:lab'), createDemo('other1', 'internal:other')]);
    const config = JSON.parse(await ok(sb, ['show', 'lab1', '--json'])) as { config: { nics: Array<{ attachment: unknown }> } };
    expect(config.config.nics[0]?.attachment).toEqual({ type: 'internal', network: 'lab' });
    await Promise.all(['lab1', 'lab2', 'other1'].map((name) => boot(name)));
    // Every `vmdesk start` has exited; the switches they started are still there.
    for (const network of ['lab', 'other']) {
      expect(isProcessAlive(switchPid(network))).toBe(true);
      expect(fs.statSync(internalSwitchSocket(network, sb.env)).mode & 0o777).toBe(0o600);
    }
    expect(switchPid('lab')).not.toBe(switchPid('other'));
    expect(fs.statSync(path.join(sb.runtime, 'net')).mode & 0o777).toBe(0o700);
    await Promise.all([
      setAddress('lab1', '192.168.50.1/24'),
      setAddress('lab2', '192.168.50.2/24'),
      setAddress('other1', '192.168.50.3/24'),
    ]);
  });

  it('lets the two machines of "lab" exchange data', async () => {
    expect(await ping('lab1', '192.168.50.2')).toBe('yes');
    expect(await ping('lab2', '192.168.50.1')).toBe('yes');
    await guest('lab2', 'nc -l -p 5000 >/tmp/got & echo L=up$((1+1))', /L=up2/);
    // The sender retries until the listener is up; the receiver waits for the data: no fixed sleeps.
    await guest(
      'lab1',
      'for i in $(seq 40); do echo internal-$((6*7))-payload | nc -w 3 192.168.50.2 5000 && break; sleep 0.5; done; echo S=sent$((1+1))',
      /S=sent2/,
    );
    await guest(
      'lab2',
      'for i in $(seq 100); do grep -q payload /tmp/got && break; sleep 0.2; done; sed "s/^/got:/" /tmp/got',
      /got:internal-42-payload/,
    );
  });

  it('keeps the machine of network "other" away from them', async () => {
    const [fromOther, toOther] = await Promise.all([
      (async () => [await ping('other1', '192.168.50.1'), await ping('other1', '192.168.50.2')])(),
      ping('lab1', '192.168.50.3'),
    ]);
    expect(fromOther).toEqual(['no', 'no']);
    expect(toOther).toBe('no');
    // ...while "lab" still works: the failed pings did not disturb it.
    expect(await ping('lab2', '192.168.50.1')).toBe('yes');
  });

  it('stops each switch once its machines are gone', async () => {
    const lab = switchPid('lab');
    await ok(sb, ['stop', 'lab2', '--force']);
    expect(await ping('lab1', '192.168.50.2')).toBe('no');
    expect(isProcessAlive(lab)).toBe(true);
    await Promise.all(['lab1', 'other1'].map((name) => ok(sb, ['stop', name, '--force'])));
    const deadline = Date.now() + 40_000;
    while (isProcessAlive(lab) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(isProcessAlive(lab)).toBe(false);
    expect(fs.existsSync(internalSwitchSocket('lab', sb.env))).toBe(false);
  });
});

// ---- bridged ---------------------------------------------------------------------------------

const NS = `vmdesk-it-${process.pid}`;
const BRIDGE = 'vmdbr0';
const DENIED = 'vmdbr1';
const ACL_DIR = '/etc/qemu';
const ACL = path.join(ACL_DIR, 'bridge.conf');
let aclBefore: string | null = null;
let aclDirMade = false;
let nsMade = false;
const daemons: ChildProcess[] = [];
let work: string;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** The host-side busybox: from the busybox-static package the demo guest recipe cached. */
function busybox(): string {
  const debs = path.join(cacheHome(), 'demo-guest', 'debs');
  const deb = fs.readdirSync(debs).find((f) => f.startsWith('busybox-static_') && f.endsWith('.deb'));
  if (!deb) throw new Error(`no busybox-static package in ${debs}`);
  sh('dpkg-deb', ['-x', path.join(debs, deb), path.join(work, 'busybox')]);
  return path.join(work, 'busybox', 'bin', 'busybox');
}

function inNamespace(args: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', NS, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  daemons.push(child);
  return child;
}

describe('bridged networking (root: a bridge in a network namespace)', () => {
  beforeEach((ctx) => needsRoot(ctx, 'a network namespace, a bridge, /etc/qemu/bridge.conf'));
  beforeAll(() => {
    if (!IS_ROOT) return;
    work = fs.mkdtempSync(path.join(sb.home, 'bridged-'));
    sh('ip', ['netns', 'add', NS]);
    nsMade = true;
    for (const cmd of [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', BRIDGE, 'type', 'bridge'],
      ['addr', 'add', '10.77.0.1/24', 'dev', BRIDGE],
      ['link', 'set', BRIDGE, 'up'],
      ['link', 'add', DENIED, 'type', 'bridge'],
      ['link', 'set', DENIED, 'up'],
    ]) {
      sh('ip', ['netns', 'exec', NS, 'ip', ...cmd]);
    }
    // The helper's ACL allows the first bridge only; the file is put back exactly as it was.
    aclDirMade = !fs.existsSync(ACL_DIR);
    fs.mkdirSync(ACL_DIR, { recursive: true });
    aclBefore = fs.existsSync(ACL) ? fs.readFileSync(ACL, 'utf8') : null;
    fs.writeFileSync(ACL, `${aclBefore ?? ''}${aclBefore && !aclBefore.endsWith('\n') ? '\n' : ''}allow ${BRIDGE}\n`);

    const bb = busybox();
    const leases = path.join(work, 'udhcpd.leases');
    fs.writeFileSync(leases, '');
    fs.writeFileSync(
      path.join(work, 'udhcpd.conf'),
      [
        'start 10.77.0.100',
        'end 10.77.0.150',
        `interface ${BRIDGE}`,
        `lease_file ${leases}`,
        `pidfile ${path.join(work, 'udhcpd.pid')}`,
        'option subnet 255.255.255.0',
        'option router 10.77.0.1',
        'option lease 600',
        '',
      ].join('\n'),
    );
    inNamespace([bb, 'udhcpd', '-f', path.join(work, 'udhcpd.conf')]);
    const www = path.join(work, 'www');
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, 'index.html'), 'bridged-page-of-the-namespace\n');
    inNamespace([bb, 'httpd', '-f', '-p', '10.77.0.1:8080', '-h', www]);
  });

  afterAll(async () => {
    // Machines first (their taps are in the namespace), then the daemons, the namespace, the ACL.
    await sb.cleanup().catch(() => undefined);
    for (const child of daemons) child.kill('SIGKILL');
    if (nsMade) spawnSync('ip', ['netns', 'del', NS]);
    if (aclBefore !== null) fs.writeFileSync(ACL, aclBefore);
    else fs.rmSync(ACL, { force: true });
    if (aclDirMade) fs.rmSync(ACL_DIR, { recursive: true, force: true });
  });

  it('gets an address from the DHCP server on the bridge and reaches a server there', async () => {
    await createDemo('br1', `bridged:${BRIDGE}`);
    await boot('br1', sb.env, ['ip', 'netns', 'exec', NS]);
    const lease = await guest(
      'br1',
      "for i in $(seq 40); do ip -4 addr show eth0 | grep -q 'inet 10.77.0.' && break; sleep 1; done; ip -4 addr show eth0 | sed -n 's/.*inet \\(10[.]77[^ ]*\\).*/lease=\\1/p'",
      /lease=10\.77\.0\.\d+\/24/,
      60,
    );
    const address = Number(lease.replace(/^lease=10\.77\.0\.(\d+)\/24$/, '$1'));
    expect(address).toBeGreaterThanOrEqual(100);
    expect(address).toBeLessThanOrEqual(150);
    await guest('br1', 'wget -q -O - http://10.77.0.1:8080/ | sed "s/^/page:/"', /page:bridged-page-of-the-namespace/);
    await ok(sb, ['stop', 'br1', '--force']);
  });

  it('refuses a bridge the helper ACL does not allow, saying how to allow it', async () => {
    await ok(sb, ['nic', 'br1', '1', '--attach', `bridged:${DENIED}`]);
    const r = await runCli(['start', 'br1'], sb.env, ['ip', 'netns', 'exec', NS]);
    // HOST_UNSUPPORTED, with the fix spelled out, before any QEMU runs.
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(new RegExp(`${DENIED}.*does not allow`));
    expect(r.stderr).toContain(`allow ${DENIED}' | sudo tee -a ${ACL}`);
    expect(r.stderr).not.toMatch(/failed to create tun|qemu-system/i);
    expect((JSON.parse(await ok(sb, ['show', 'br1', '--json'])) as { status: { state: string } }).status.state).toBe('stopped');
  });
});
