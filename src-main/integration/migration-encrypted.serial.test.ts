/**
 * Migration of a machine with encrypted disks to a second host (sshd in a network namespace of its
 * own, ssh-host.ts), through the real CLI. Live: the passphrase given from a file reaches the
 * destination inside the API call over SSH; the guest runs on there (same boot, a marker written to
 * its disk reads back), its images there are LUKS and hold no plain text of the marker, and the
 * passphrase is in no command line while it moves and in no file of either library or runtime dir.
 * A wrong or missing passphrase is refused before anything is made there; a cancel half-way leaves
 * the guest running here and nothing there. Offline: a stopped
 * encrypted machine with a snapshot moves with no passphrase, and starts there with its own.
 *
 * Both "hosts" share this machine's filesystem and process table (only the network differs): the
 * remote library and runtime dir are read directly.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLinesHolding, filesHolding, makeKeys, marker, PROMPT, READ_MARKER, writeMarker, type Keys } from './encryption-helpers.js';
import { CLI, eventually, guestSays, makeSandbox, ok as okIn, skipBecause, vmdesk, type CliResult, type Sandbox } from './harness.js';
import { sshHostUnavailable, startSshHost, type SshHost } from './ssh-host.js';

const unavailable = sshHostUnavailable();
let host: SshHost;
let sb: Sandbox;
let keys: Keys;

/** This computer's CLI, with lab in its ssh_config. */
const cli = (args: string[]): Promise<CliResult> => vmdesk(sb, args, { timeoutMs: 180_000 });
const ok = (args: string[]): Promise<string> => okIn(sb, args, { timeoutMs: 180_000 });

/** Every file and folder under `dir`, relative, sorted; lock files left out. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.endsWith('.lock')).sort();
}

/** What lab holds: its machines as listed, its library's folders, its runtime dir. */
async function lab(): Promise<string> {
  const listed = JSON.parse(await ok(['--host', 'lab', 'list', '--json'])) as Array<{ uuid: string; status: { state: string } }>;
  return JSON.stringify({
    machines: listed.map((m) => `${m.uuid} ${m.status.state}`).sort(),
    files: tree(path.join(host.remoteHome, 'machines')),
    runtime: tree(host.remoteRuntime),
  });
}

/** A line typed on lab's console; its log read until `answer` appears after what was there. */
async function labSays(name: string, line: string, answer: RegExp): Promise<string> {
  const before = (await ok(['--host', 'lab', 'log', name])).length;
  await ok(['--host', 'lab', 'send', name, `${line}\\n`]);
  const log = await eventually(
    () => ok(['--host', 'lab', 'log', name]),
    (l) => answer.test(l.slice(before)),
    60_000,
  );
  return answer.exec(log.slice(before))?.[0] ?? '';
}

/** The qcow2 images of a machine folder (its disk and its snapshots' layers), each as qemu-img sees it. */
function images(dir: string): Array<{ file: string; encrypted: boolean }> {
  return tree(dir)
    .filter((f) => f.endsWith('.qcow2') && !f.startsWith('nvram'))
    .map((f) => {
      const r = spawnSync('qemu-img', ['info', '-U', '--output=json', path.join(dir, f)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`qemu-img info ${f}: ${r.stderr}`);
      return { file: f, encrypted: (JSON.parse(r.stdout) as { encrypted?: boolean }).encrypted === true };
    });
}

/** Where the passphrase is in a file: both libraries and both runtime dirs. */
function filesWithPassphrase(): string[] {
  return [sb.home, sb.runtime, host.remoteHome, host.remoteRuntime].flatMap((dir) =>
    fs.existsSync(dir) ? filesHolding(dir, keys.passphrase) : [],
  );
}

/** `vmdesk migrate` run as a child while every process's command line is read for the passphrase, 20 times a second. */
async function migrateWatched(args: string[]): Promise<{ result: CliResult; cmdlineHits: number[]; looks: number }> {
  const child = spawn(process.execPath, [CLI, 'migrate', ...args], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const cmdlineHits = new Set<number>();
  let looks = 0;
  const timer = setInterval(() => {
    looks++;
    for (const pid of commandLinesHolding(keys.passphrase)) cmdlineHits.add(pid);
  }, 50);
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  try {
    const code = await exited;
    return { result: { code, stdout, stderr } as CliResult, cmdlineHits: [...cmdlineHits], looks };
  } finally {
    clearInterval(timer);
    clearTimeout(killer);
  }
}

beforeAll(async () => {
  if (unavailable) return;
  host = await startSshHost({ name: 'lab' });
  sb = makeSandbox();
  keys = makeKeys();
  sb.env.VMDESK_SSH_CONFIG = host.sshConfig;
  // lab's VMDesk makes LUKS headers with the tests' short key derivation too (harness.ts says why).
  const iterTime = `VMDESK_TEST_LUKS_ITER_TIME_MS=${sb.env.VMDESK_TEST_LUKS_ITER_TIME_MS ?? '50'}`;
  const remote = ['--remote-home', host.remoteHome, '--remote-command', host.remoteCommand.replace(/^(\S+) /, `$1 ${iterTime} `)];
  await ok(['hosts', 'add', 'lab', host.alias, ...remote, '--accept-host-key', host.fingerprint]);
}, 120_000);

afterAll(async () => {
  await sb?.cleanup();
  await host?.stop();
  if (keys) fs.rmSync(keys.dir, { recursive: true, force: true });
});

describe('migration of a machine with encrypted disks', () => {
  it('live, with its passphrase from a file: runs on there encrypted at rest, the passphrase in no command line and no file; a wrong or missing one refused with nothing made there', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    const pass = ['--passphrase-file', keys.passFile];
    await ok(['create', 'vault', '--demo', '--memory', '128', '--disk', '32M', '--encrypt', ...pass]);
    // A snapshot: its encrypted layer travels as a file, the overlay the guest writes is mirrored.
    await ok(['snapshot', 'vault', 'take', 'base', ...pass]);
    await ok(['start', 'vault', ...pass]);
    await ok(['wait', 'vault', '--text', PROMPT, '--timeout', '120']);
    const { uuid, dir } = JSON.parse(await ok(['show', 'vault', '--json'])) as { uuid: string; dir: string };
    const bootId = await guestSays(sb, 'vault', 'cat /proc/sys/kernel/random/boot_id', /[0-9a-f]{8}-[0-9a-f-]{27}/, 30);
    expect(await guestSays(sb, 'vault', writeMarker('live'), 'written-6', 30)).toBe('written-6');

    const before = await lab();
    const wrong = await cli(['migrate', 'vault', '--to', 'lab', '--passphrase-file', keys.wrongFile]);
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/Wrong passphrase for vault/);
    const none = await cli(['migrate', 'vault', '--to', 'lab']);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/needs a passphrase: give --passphrase-file FILE, or run this from a terminal/);
    expect(await lab()).toBe(before);

    // Ctrl-C once its encrypted disks are made there and mirrored (the RAM rounds run, slowly): lab clean, the guest on here.
    const slow = spawn(process.execPath, [CLI, 'migrate', 'vault', '--to', 'lab', '--bandwidth', '1', ...pass], {
      env: sb.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let slowErr = '';
    slow.stderr.on('data', (d: Buffer) => (slowErr += d.toString()));
    const slowExit = new Promise<number | null>((resolve) => slow.on('exit', (code) => resolve(code)));
    try {
      await eventually(
        () => Promise.resolve(slowErr),
        (t) => /Round \d+: /.test(t) || slow.exitCode !== null,
        90_000,
      );
      expect(images(path.join(host.remoteHome, 'machines', 'vault')).map((i) => i.encrypted)).toEqual([true, true]);
      slow.kill('SIGINT');
      expect(await slowExit, slowErr).toBe(11);
    } finally {
      if (slow.exitCode === null) slow.kill('SIGKILL');
    }
    expect(await eventually(lab, (now) => now === before, 20_000)).toBe(before);
    expect(await guestSays(sb, 'vault', 'echo $((6*7))', /\r?\n42\r?\n/, 30)).toMatch(/42/);

    const { result, cmdlineHits, looks } = await migrateWatched(['vault', '--to', 'lab', '--json', ...pass]);
    expect(result.code, result.stderr).toBe(0);
    expect(looks).toBeGreaterThan(10);
    expect(cmdlineHits).toEqual([]);
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'vault', to: 'lab' });

    // There: the same boot, and the marker read from the disk itself.
    expect(await labSays('vault', 'cat /proc/sys/kernel/random/boot_id', /[0-9a-f]{8}-[0-9a-f-]{27}/)).toBe(bootId);
    expect(await labSays('vault', READ_MARKER, /MARKlive-\d+/)).toBe(marker('live'));
    // Encrypted at rest there: every image LUKS (the overlay made there and the layer that came), no marker in plain text.
    const labDir = path.join(host.remoteHome, 'machines', 'vault');
    const there = images(labDir);
    expect(there.length).toBe(2);
    expect(there.filter((i) => !i.encrypted)).toEqual([]);
    const grep = spawnSync('grep', ['-r', '-l', '-a', marker('live'), path.join(labDir, 'disks')], { encoding: 'utf8' });
    expect(grep.status, grep.stdout).toBe(1);
    expect(filesWithPassphrase()).toEqual([]);
    // Nothing of it here.
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(path.join(sb.runtime, uuid))).toBe(false);
    await ok(['--host', 'lab', 'stop', 'vault', '--force']);
  }, 300_000);

  it('offline, stopped with a snapshot: moves with no passphrase, and starts there with its own, its snapshot intact', async (ctx) => {
    if (unavailable) skipBecause(ctx, unavailable);
    const pass = ['--passphrase-file', keys.passFile];
    await ok(['create', 'shelf', '--demo', '--memory', '128', '--disk', '16M', '--encrypt', ...pass]);
    await ok(['start', 'shelf', ...pass]);
    await ok(['wait', 'shelf', '--text', PROMPT, '--timeout', '120']);
    expect(await guestSays(sb, 'shelf', writeMarker('off'), 'written-6', 30)).toBe('written-6');
    await ok(['stop', 'shelf', '--force']);
    await ok(['snapshot', 'shelf', 'take', 'first', ...pass]);
    const local = path.join(sb.home, 'machines', 'shelf');
    const files = tree(local).filter((f) => !f.startsWith('logs'));

    const outcome = JSON.parse(await ok(['migrate', 'shelf', '--to', 'lab', '--offline', '--json'])) as { name: string };
    expect(outcome.name).toBe('shelf');
    expect(fs.existsSync(local)).toBe(false);
    const labDir = path.join(host.remoteHome, 'machines', 'shelf');
    expect(tree(labDir).filter((f) => !f.startsWith('logs'))).toEqual(files);
    const there = images(labDir);
    expect(there.length).toBe(2);
    expect(there.filter((i) => !i.encrypted)).toEqual([]);
    expect(await ok(['--host', 'lab', 'snapshot', 'shelf', 'list'])).toMatch(/first/);

    // Its passphrase is still the key there: a wrong one starts nothing, its own restores the snapshot and boots it.
    const wrong = await cli(['--host', 'lab', 'start', 'shelf', '--passphrase-file', keys.wrongFile]);
    expect(wrong.code, wrong.stderr).toBe(2);
    await ok(['--host', 'lab', 'snapshot', 'shelf', 'restore', 'first', ...pass]);
    await ok(['--host', 'lab', 'start', 'shelf', ...pass]);
    await ok(['--host', 'lab', 'wait', 'shelf', '--text', PROMPT, '--timeout', '120']);
    expect(await labSays('shelf', READ_MARKER, /MARKoff-\d+/)).toBe(marker('off'));
    expect(filesWithPassphrase()).toEqual([]);
    await ok(['--host', 'lab', 'stop', 'shelf', '--force']);
  }, 240_000);
});
