/**
 * The demo guest: Debian's kernel + a busybox initramfs, built once per machine by
 * resources/demo-guest/build.sh into the shared cache and copied into each demo VM's folder.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmdeskError } from '../../api/errors.js';
import { acquireLock } from '../fs/lock-file.js';
import { cacheHome } from '../paths.js';

/** Bump with any change to the recipe: a new version builds into a new cache folder. */
export const DEMO_GUEST_VERSION = 3;
export const DEMO_PROMPT = 'vmdesk-demo# ';
export const DEMO_BANNER = 'VMDesk demo guest ready';
/**
 * ttyS0 last, so /dev/console (init's messages, the banner) is the serial port. no_timer_check: under
 * TCG on a busy host the kernel's boot-time check of the IO-APIC timer can see too few ticks and panic
 * ("IO-APIC + timer doesn't work!"), as cloud images for virtual machines also avoid.
 * cryptomgr.notests: the boot-time self-tests of the kernel's ciphers take ~0.4 s of a 2.5 s boot
 * under TCG, for a guest that encrypts nothing. initcall_blacklist: two more start-up steps the
 * demo never uses, 0.33 s of a ~3.7 s boot under TCG (`initcall_debug`): the self-test of the
 * SP 800-108 key derivation (crypto_kdf108_init, 0.23 s), which cryptomgr.notests does not cover,
 * and the set-up of kprobe trace events (init_kprobe_trace, 0.10 s).
 */
export const DEMO_CMDLINE =
  'console=tty1 console=ttyS0,115200 quiet no_timer_check cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_kprobe_trace';

const RECIPE = path.join('resources', 'demo-guest', 'build.sh');
const FILES = ['vmlinuz', 'initrd.img', 'demo.iso', 'VERSION'] as const;
/** A build takes ~20 s; another process building it at the same time is waited for this long. */
const BUILD_LOCK_WAIT_MS = 15 * 60_000;

export interface DemoGuestFiles {
  dir: string;
  kernel: string;
  /**
   * The same kernel uncompressed, booted by its PVH entry where the firmware is BIOS (QEMU's -kernel
   * loads the ELF itself): under TCG the bzImage spends ~2.7 s of a 5.5 s boot decompressing itself.
   * Null when the kernel has no PVH entry. UEFI firmware boots only the bzImage.
   */
  pvhKernel: string | null;
  initrd: string;
  iso: string;
  /** The VERSION line: recipe, kernel release, package versions. */
  version: string;
}

export interface EnsureDemoGuestOptions {
  env?: NodeJS.ProcessEnv;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export function demoGuestDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheHome(env), 'demo-guest', `v${DEMO_GUEST_VERSION}`);
}

/** The built demo guest, or null when it has not been built (or is incomplete). */
export async function findDemoGuest(env: NodeJS.ProcessEnv = process.env): Promise<DemoGuestFiles | null> {
  const dir = demoGuestDir(env);
  try {
    for (const name of FILES) {
      const stat = await fs.stat(path.join(dir, name));
      if (!stat.isFile() || stat.size === 0) return null;
    }
    const version = (await fs.readFile(path.join(dir, 'VERSION'), 'utf8')).trim();
    const pvhKernel = path.join(dir, 'vmlinux');
    const hasPvh = await fs.stat(pvhKernel).then(
      (st) => st.isFile() && st.size > 0,
      () => false,
    );
    return {
      dir,
      kernel: path.join(dir, 'vmlinuz'),
      pvhKernel: hasPvh ? pvhKernel : null,
      initrd: path.join(dir, 'initrd.img'),
      iso: path.join(dir, 'demo.iso'),
      version,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The recipe, found by walking up from this module (works from src-main, dist/main and dist/bundle). */
export async function findRecipe(): Promise<string> {
  // In the packaged app this module lives in app.asar, which only Electron can read: the recipe is in
  // app.asar.unpacked, where bash can run it.
  let dir = path.dirname(fileURLToPath(import.meta.url)).replace(/([/\\]app\.asar)(?=[/\\]|$)/, '$1.unpacked');
  for (;;) {
    const candidate = path.join(dir, RECIPE);
    try {
      await fs.access(candidate, fsConstants.R_OK);
      return candidate;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) throw new VmdeskError('INTERNAL', `The demo guest recipe (${RECIPE}) is missing from this installation`);
      dir = parent;
    }
  }
}

/** Returns the demo guest, building it first if needed. Concurrent callers build it once. */
export async function ensureDemoGuest(options: EnsureDemoGuestOptions = {}): Promise<DemoGuestFiles> {
  const env = options.env ?? process.env;
  const found = await findDemoGuest(env);
  if (found) return found;
  const dir = demoGuestDir(env);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const lock = await acquireLock(`${dir}.lock`, 'building the demo guest', BUILD_LOCK_WAIT_MS);
  try {
    const built = await findDemoGuest(env);
    if (built) return built;
    await runRecipe(await findRecipe(), dir, options);
    const result = await findDemoGuest(env);
    if (!result) throw new VmdeskError('INTERNAL', `The demo guest build finished but ${dir} is incomplete`);
    return result;
  } finally {
    await lock.release();
  }
}

function runRecipe(recipe: string, outDir: string, options: EnsureDemoGuestOptions): Promise<void> {
  options.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [recipe, outDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tail: string[] = [];
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      options.onLog?.(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) onLine(line);
      });
      stream.on('end', () => {
        if (buffered.trim()) onLine(buffered);
      });
    }
    const abort = (): void => {
      // The recipe runs in its own process group: stop apt-get, gzip, grub-mkrescue with it.
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (err) => {
      options.signal?.removeEventListener('abort', abort);
      reject(new VmdeskError('HOST_UNSUPPORTED', `Cannot run the demo guest recipe: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', abort);
      if (code === 0) return resolve();
      if (options.signal?.aborted) return reject(new VmdeskError('CANCELLED', 'Building the demo guest was cancelled'));
      const detail = tail.join('\n');
      if (code === 3) return reject(new VmdeskError('HOST_UNSUPPORTED', `The demo guest needs host tools that are missing:\n${detail}`));
      reject(new VmdeskError('INTERNAL', `Building the demo guest failed (${signal ?? `exit ${code}`}):\n${detail}`));
    });
  });
}
