/**
 * Test harness for integration tests: a throw-away library and runtime dir per test file, the real
 * `vmdesk` CLI run as a child process, and a clean-up that powers off whatever the test left running.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { demoGuestDir } from '../core/demo/demo-guest.js';

export { IS_ROOT, needsRoot, skipBecause } from './skip.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(ROOT, 'bin', 'vmdesk.js');

export interface Sandbox {
  home: string;
  runtime: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export function makeSandbox(): Sandbox {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-it-'));
  // Short on purpose: unix socket paths must stay under 107 bytes.
  const runtime = fs.mkdtempSync('/tmp/vmrt-');
  // The CLI speaks the developer's language (LC_ALL, LC_MESSAGES, LANG, VMDESK_LANG); the tests read
  // its English. A test of another language passes its own env (cli-i18n.test.ts).
  // LUKS headers derive their keys in 50 ms instead of 2 s (secret-fifo.ts luksIterTimeMs): each one
  // written and each unlock would otherwise cost 2 s, dozens of them per encryption test file.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VMDESK_HOME: home,
    VMDESK_RUNTIME_DIR: runtime,
    LC_ALL: 'C.UTF-8',
    VMDESK_TEST_LUKS_ITER_TIME_MS: '50',
  };
  delete env.VMDESK_QEMU;
  delete env.VMDESK_LANG;
  return {
    home,
    runtime,
    env,
    async cleanup() {
      // Power off anything still running: every runtime dir holds a qemu.pid and agent.pid.
      for (const uuid of fs.existsSync(runtime) ? fs.readdirSync(runtime) : []) {
        for (const pidFile of ['qemu.pid', 'agent.pid']) {
          try {
            process.kill(Number(fs.readFileSync(path.join(runtime, uuid, pidFile), 'utf8').trim()), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      await new Promise((r) => setTimeout(r, 200));
      fs.rmSync(runtime, { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function vmdesk(sb: Sandbox, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vmdesk ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Run the CLI and fail with its output unless it exits 0. */
export async function ok(sb: Sandbox, args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const r = await vmdesk(sb, args, options);
  if (r.code !== 0) throw new Error(`vmdesk ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function listMachineDirs(sb: Sandbox): string[] {
  const dir = path.join(sb.home, 'machines');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/**
 * True when the PNG shows something: at least 250 pixels (some ten characters of a text screen,
 * whatever its resolution) differ from its most common colour. A stray pixel or a lone cursor on a
 * blank screen is not content.
 */
export function pngHasContent(file: string): boolean {
  const png = PNG.sync.read(fs.readFileSync(file));
  const counts = new Map<number, number>();
  for (let i = 0; i < png.data.length; i += 4) {
    const rgb = png.data.readUInt32BE(i) >>> 8;
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
  }
  return png.width * png.height - Math.max(...counts.values()) >= 250;
}

export function build(): void {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/**
 * A real third-party boot image from Debian's packages, fetched with `apt-get download` and
 * unpacked with `dpkg -x` into the cache (never installed on the host).
 */
export function debianFile(pkg: string, fileInPackage: string): string {
  const cache = path.join(process.env.VMDESK_CACHE ?? path.join(os.homedir(), '.cache', 'vmdesk'), 'third-party', pkg);
  const target = path.join(cache, 'root', fileInPackage);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(cache, { recursive: true });
  const dl = spawnSync('apt-get', ['download', pkg], { cwd: cache, encoding: 'utf8' });
  if (dl.status !== 0) throw new Error(`apt-get download ${pkg} failed: ${dl.stderr}`);
  const deb = fs.readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`no .deb for ${pkg}`);
  const x = spawnSync('dpkg', ['-x', deb, 'root'], { cwd: cache, encoding: 'utf8' });
  if (x.status !== 0 || !fs.existsSync(target)) throw new Error(`dpkg -x ${deb} did not give ${fileInPackage}: ${x.stderr}`);
  return target;
}

/** What a machine's QEMU says of its run state and migration, for a failed test's message. */
async function qemuSays(sb: Sandbox, uuid: string): Promise<string> {
  const { AgentClient } = await import('../core/agent/agent-client.js');
  try {
    const client = await AgentClient.connect(path.join(sb.runtime, uuid, 'agent.sock'));
    try {
      return JSON.stringify({ status: await client.qmp('query-status'), migration: await client.qmp('query-migrate') });
    } finally {
      client.close();
    }
  } catch (err) {
    return `(no answer: ${(err as Error).message})`;
  }
}

/** The characters on a VGA text-mode screen, read from guest memory at 0xb8000 through QMP pmemsave. */
export async function vgaText(sb: Sandbox, uuid: string): Promise<string> {
  const { AgentClient } = await import('../core/agent/agent-client.js');
  const client = await AgentClient.connect(path.join(sb.runtime, uuid, 'agent.sock'));
  const file = path.join(sb.runtime, uuid, 'vga.bin');
  try {
    await client.request({ op: 'qmp', command: 'pmemsave', args: { val: 0xb8000, size: 80 * 25 * 2, filename: file } });
    const cells = fs.readFileSync(file);
    let text = '';
    for (let i = 0; i < cells.length; i += 2) text += String.fromCharCode(cells[i] ?? 32) + ((i / 2) % 80 === 79 ? '\n' : '');
    return text;
  } finally {
    client.close();
    fs.rmSync(file, { force: true });
  }
}

/** Every live process's pid and argv. */
export function* commandLines(): Generator<{ pid: number; args: string[] }> {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      yield { pid: Number(pid), args: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') };
    } catch {
      // gone meanwhile
    }
  }
}

export async function eventually<T>(fn: () => Promise<T>, accept: (v: T) => boolean, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (accept(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The folder and uuid of the running machine `name`, as its agent wrote them when it launched QEMU
 * (launch.json in its runtime folder, its agent alive), or null: what `vmdesk show --json` says of
 * them, without a CLI run (~0.3 s of CPU each; the suite types into guests some 150 times).
 */
function runningMachine(sb: Sandbox, name: string): { dir: string; uuid: string } | null {
  for (const uuid of fs.existsSync(sb.runtime) ? fs.readdirSync(sb.runtime) : []) {
    try {
      const launch = JSON.parse(fs.readFileSync(path.join(sb.runtime, uuid, 'launch.json'), 'utf8')) as {
        name?: unknown;
        machineDir?: unknown;
      };
      if (launch.name !== name || typeof launch.machineDir !== 'string') continue;
      process.kill(Number(fs.readFileSync(path.join(sb.runtime, uuid, 'agent.pid'), 'utf8').trim()), 0);
      return { dir: launch.machineDir, uuid };
    } catch {
      // Not running, or not yet written: `vmdesk show` decides.
    }
  }
  return null;
}

/**
 * Type a line into a guest's serial console, then wait for `answer` in what it prints afterwards;
 * resolves with the matched text. It reads serial.log from where it ends before the send: a `vmdesk
 * wait` started beside the send could itself start after a quick answer. On failure it says what
 * QEMU and the agent report, and what the guest printed before the line (a kernel panic, say).
 */
export async function guestSays(sb: Sandbox, name: string, line: string, answer: RegExp | string, timeoutS: number): Promise<string> {
  const { dir, uuid } = runningMachine(sb, name) ?? (JSON.parse(await ok(sb, ['show', name, '--json'])) as { dir: string; uuid: string });
  const log = path.join(dir, 'logs', 'serial.log');
  const from = fs.statSync(log).size;
  await ok(sb, ['send', name, `${line}\\n`]);
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const text = fs.readFileSync(log).subarray(from).toString('latin1');
    const found = typeof answer === 'string' ? (text.includes(answer) ? answer : null) : (answer.exec(text)?.[0] ?? null);
    if (found !== null) return found;
    if (Date.now() > deadline) {
      const asked = Date.now();
      const qemu = await qemuSays(sb, uuid);
      const tail = (file: string, before = Infinity): string =>
        fs.existsSync(file) ? fs.readFileSync(file).subarray(0, before).toString('latin1').slice(-1200) : '(none)';
      throw new Error(
        `${name} did not print ${String(answer)} within ${timeoutS} s:\n${text.slice(-1500)}\n` +
          `Its QEMU says (in ${Date.now() - asked} ms): ${qemu}\n` +
          `Printed since, while asked: ${JSON.stringify(
            fs
              .readFileSync(log)
              .subarray(from + text.length)
              .toString('latin1')
              .slice(-300),
          )}\n` +
          `Before the line, the guest printed:\n${tail(log, from)}\n` +
          `Its agent.log ends:\n${tail(path.join(dir, 'logs', 'agent.log'))}\nIts qemu.log ends:\n${tail(path.join(dir, 'logs', 'qemu.log'))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * MiB the demo guest's boot files (its kernel for BIOS machines, and initrd) take in a machine
 * folder, and so in a backup of it: a small filesystem made for a library or a backup needs this
 * much more (the files are copied there, not linked from the cache on another filesystem).
 */
export function demoBootMiB(): number {
  const demo = demoGuestDir();
  const kernel = fs.existsSync(path.join(demo, 'vmlinux')) ? 'vmlinux' : 'vmlinuz';
  return Math.ceil((fs.statSync(path.join(demo, kernel)).size + fs.statSync(path.join(demo, 'initrd.img')).size) / (1024 * 1024));
}

/**
 * A fresh filesystem of `sizeMiB` on a loop device (root only), mounted at `<sb.home>/<name>`; the
 * caller unmounts it (`umount -l`) before the sandbox goes. ext4 with no blocks reserved for root
 * unless `mkfs` says otherwise, so that it fills for root too.
 */
export function loopMount(sb: Sandbox, name: string, sizeMiB: number, mkfs = ['mkfs.ext4', '-q', '-F', '-m', '0']): string {
  const image = path.join(sb.home, `${name}.img`);
  const dir = path.join(sb.home, name);
  fs.mkdirSync(dir);
  for (const [cmd = '', ...args] of [
    ['truncate', '-s', `${sizeMiB}M`, image],
    [...mkfs, image],
    ['mount', '-o', 'loop', image, dir],
  ]) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  }
  return dir;
}

/** Fill the filesystem holding `dir` to its last block but `leaveBytes`; returns the filler file. */
export function fillFilesystem(dir: string, leaveBytes = 0): string {
  const file = path.join(dir, `filler-${process.hrtime.bigint()}`);
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (const size of [chunk.length, 4096]) {
      for (;;) {
        const s = fs.statfsSync(dir);
        if (s.bavail * s.bsize - leaveBytes < size) break;
        try {
          fs.writeSync(fd, chunk, 0, size);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
