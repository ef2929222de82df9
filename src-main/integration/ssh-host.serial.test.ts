// The second host of the remote-host tests (ssh-host.ts): sshd in a network namespace of its own.
// The authorized key logs in as root on an address that is not this one and runs this checkout's
// CLI; the other key is refused; killSessions cuts a running session at once; a pulled link makes
// connecting time out; a changed host key is caught by a client that knew the old one; the read-only
// dir is read-only on both sides; stop leaves no namespace, link, process or temp dir.
// Runs alone (*.serial.test.ts): network namespaces, links and mounts are host-wide state.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { skipBecause } from './harness.js';
import { sshHostUnavailable, startSshHost, type SshHost } from './ssh-host.js';

const unavailable = sshHostUnavailable();
let host: SshHost | undefined;

beforeAll(async () => {
  if (unavailable) return;
  host = await startSshHost();
});
afterAll(async () => {
  await host?.stop();
});

function h(): SshHost {
  if (!host) throw new Error('no ssh host');
  return host;
}

/** ssh through the host's ssh_config (and so its known_hosts), as VMDesk will. */
function sshWithConfig(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('ssh', ['-F', h().sshConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('a second host over SSH (sshd in a network namespace)', () => {
  beforeEach((ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
  });

  it('runs a command as root with the authorized key, on an address of its own', () => {
    const r = h().ssh(['echo $((6*7)) $(id -u); ip -4 -o addr show']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('42 0');
    expect(r.stdout).toContain(`inet ${h().address}/30`);
    expect(spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout).not.toContain(`inet ${h().address}/`);
    expect(h().fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // The harness's own checks leave the known_hosts of the ssh_config alone.
    expect(fs.readFileSync(h().knownHostsFile, 'utf8')).toBe('');
  });

  it('runs the CLI of this checkout there with the remote command', () => {
    const r = h().ssh([`VMDESK_HOME=${h().remoteHome}`, h().remoteCommand, 'list', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('refuses the key that is not authorized', () => {
    // Not through the alias: IdentityFile adds up, and the alias's own key would then be offered too.
    const r = spawnSync(
      'ssh',
      [
        ...['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-i', h().otherIdentity],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-p', String(h().port), `root@${h().address}`, 'true'],
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(255);
    expect(r.stderr).toContain('Permission denied (publickey)');
  });

  it('killSessions cuts a running session at once, and the server still takes new ones', async () => {
    const child = spawn(
      'ssh',
      [
        '-F',
        h().sshConfig,
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        h().alias,
        'echo started; sleep 30',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 100 && !stdout.includes('started'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(stdout).toContain('started');

    const before = Date.now();
    expect(await h().killSessions()).toBe(1);
    expect(await exited).toBe(255);
    expect(Date.now() - before).toBeLessThan(3000);
    expect(stderr).toMatch(/closed by remote host|Connection reset|Broken pipe/);
    expect(h().ssh(['true']).status).toBe(0);
  });

  it('with the link down connecting times out; with it up again it works', async () => {
    await h().linkDown();
    try {
      const r = h().ssh(['-o', 'ConnectTimeout=1', 'true']);
      expect(r.status).toBe(255);
      // Which of the two depends on whether the neighbour entry of the address is still fresh.
      expect(r.stderr).toMatch(/timed out|No route to host/);
    } finally {
      await h().linkUp();
    }
    const before = Date.now();
    expect(h().ssh(['true']).status).toBe(0);
    // No SYN lost to a link that was not up yet (a retry would come after a second).
    expect(Date.now() - before).toBeLessThan(900);
  });

  it('changeHostKey gives a new fingerprint, which a client that knew the old key refuses', async () => {
    const first = sshWithConfig(['-o', 'StrictHostKeyChecking=accept-new', h().alias, 'true']);
    expect(first.status).toBe(0);
    expect(fs.readFileSync(h().knownHostsFile, 'utf8')).toContain(`[${h().address}]:${h().port} ssh-ed25519 `);

    const old = h().fingerprint;
    await h().changeHostKey();
    expect(h().fingerprint).toMatch(/^SHA256:/);
    expect(h().fingerprint).not.toBe(old);
    const again = sshWithConfig(['-o', 'StrictHostKeyChecking=accept-new', h().alias, 'true']);
    expect(again.status).toBe(255);
    expect(again.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(again.stderr).toContain(h().fingerprint);
    // The harness's own ssh follows the new key.
    expect(h().ssh(['true']).status).toBe(0);
  });

  it('readOnlyDir is read-only for root, here and on the host', () => {
    const dir = h().readOnlyDir();
    let code = '';
    try {
      fs.writeFileSync(`${dir}/x`, 'x');
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code ?? '';
    }
    expect(code).toBe('EROFS');
    const r = h().ssh([`touch ${dir}/x`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Read-only file system');
  });

  it('stop leaves no namespace, link, process, mount or temp dir, and may be called again', async () => {
    const { netns, veth, dir, remoteRuntime } = h();
    const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    await h().stop();
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(new RegExp(`^${netns}\\b`, 'm'));
    expect(spawnSync('ip', ['link', 'show', veth]).status).not.toBe(0);
    for (const pid of pids) {
      const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      expect(stat === '' || / Z /.test(stat), `pid ${pid}: ${stat}`).toBe(true);
    }
    expect(fs.readFileSync('/proc/mounts', 'utf8')).not.toContain(dir);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(remoteRuntime)).toBe(false);
    await h().stop();
  });
});
