// Power loss as LazyFS models it: the library lives on a FUSE passthrough (lazyfs.py, beside this
// file) that keeps written data in memory until fsync/fdatasync and forgets it on a "crash". The real
// CLI is SIGKILLed at random moments while it saves machine.json (modify), library.json (create) and
// snapshots.json (snapshot take), then the filesystem crashes: every file reads whole, old or new,
// and the library loads with no broken machine. A plain write + rename (no fsync) on the same
// filesystem loses its data: the harness does see what a missing fsync costs.
// Runs alone (*.serial.test.ts): a FUSE mount (root).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, IS_ROOT, makeSandbox, ok, type Sandbox } from './harness.js';
import { LAZYFS_MISSING, mountLazyFs, type LazyFs } from './lazyfs.js';

const usable =
  IS_ROOT && !LAZYFS_MISSING ? null : 'needs root, /dev/fuse and python3-fusepy (a FUSE filesystem that drops unsynced writes)';

let sb: Sandbox;
let lazy: LazyFs | undefined;
let mount = '';
const crash = (): void => lazy?.crash();

beforeAll(async () => {
  sb = makeSandbox();
  if (usable) return;
  lazy = await mountLazyFs(sb.home, 'lazy');
  mount = lazy.mount;
  sb.env.VMDESK_HOME = path.join(mount, 'home');
});
afterAll(async () => {
  lazy?.unmount();
  await sb.cleanup();
});

/** Run the CLI, SIGKILLed after `ms` unless it is done first; whether it was killed, and how long it ran. */
function killedAfter(args: string[], ms: number): Promise<{ killed: boolean; ranMs: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: sb.env, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', ranMs: Date.now() - started });
    }),
  );
}

/** JSON.parse of a file, or why it cannot be read whole. */
function whole(file: string): string | null {
  try {
    JSON.parse(fs.readFileSync(file, 'utf8'));
    return null;
  } catch (err) {
    return `${path.basename(file)}: ${(err as Error).message}`;
  }
}

describe.skipIf(usable !== null)('a crash that drops unsynced writes (LazyFS-style FUSE)', () => {
  it('the harness sees a write that was not fsynced vanish', () => {
    const file = path.join(mount, 'plain.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1 }));
    fs.renameSync(`${file}.tmp`, file);
    expect(whole(file)).toBeNull();
    crash();
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });

  it('machine.json, library.json and snapshots.json are whole, old or new, after a writer killed -9 and a crash', async () => {
    await ok(sb, ['create', 'm', '--disk', '16M', '--network', 'none']);
    await ok(sb, ['snapshot', 'm', 'take', 'first']);
    const { dir } = JSON.parse(await ok(sb, ['show', 'm', '--json'])) as { dir: string };
    crash();
    const files = [path.join(sb.env.VMDESK_HOME ?? '', 'library.json'), path.join(dir, 'machine.json'), path.join(dir, 'snapshots.json')];
    expect(files.map(whole)).toEqual([null, null, null]);
    const notes = new Set<string>(['']);
    const torn: string[] = [];
    const trials = 36;
    const took = new Map<string, number>();
    let killed = 0;
    for (let i = 0; i < trials; i++) {
      const op = [
        ['modify', 'm', '--notes', `round-${i}`],
        ['create', `extra-${i}`, '--network', 'none'],
        ['snapshot', 'm', 'take', `snap-${i}`],
      ][i % 3] as string[];
      if (op[0] === 'modify') notes.add(`round-${i}`);
      // The first run of each command is timed; later ones are killed anywhere in that time.
      const full = took.get(op[0] ?? '');
      const run = await killedAfter(op, full === undefined ? 120_000 : Math.random() * full);
      if (full === undefined) took.set(op[0] ?? '', run.ranMs);
      if (run.killed) killed++;
      crash();
      for (const file of [...files, `${files[1]}.bak`]) {
        if (!fs.existsSync(file) && file.endsWith('.bak')) continue;
        const why = whole(file);
        if (why) torn.push(`trial ${i} (${op.join(' ')}): ${why}`);
      }
      const config = JSON.parse(fs.readFileSync(files[1] ?? '', 'utf8')) as { notes?: string };
      expect(notes, `notes after trial ${i}`).toContain(config.notes ?? '');
      // The library loads: no machine broken, m's snapshots listed.
      const listed = JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ broken?: unknown; error?: unknown }>;
      expect(listed.filter((m) => m.broken || m.error)).toEqual([]);
      expect(await ok(sb, ['snapshot', 'm', 'list'])).toContain('first');
    }
    expect(torn).toEqual([]);
    expect(killed, 'writers killed before they were done').toBeGreaterThan(trials / 2);
  });
});
