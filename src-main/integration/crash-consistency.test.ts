// Crash consistency of the files VMDesk writes: a writer SIGKILLed at random moments always leaves
// the old or the new version (and a whole backup); its temp files go with the next write. A corrupt
// machine.json makes that one machine show as broken, with the reason and its backup offered; the
// others load; `vmdesk repair NAME --from-backup` brings it back without overwriting the broken file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonAtomic } from '../core/fs/atomic-file.js';
import { ROOT, makeSandbox, type Sandbox } from './harness.js';

let sb: Sandbox;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

/** A child that rewrites `file` (with a backup) as fast as it can: {n, pad} with n counting up from `from`. */
function startWriter(file: string, from: number): { ready: Promise<void>; kill: () => Promise<void> } {
  const script = `
    const { writeJsonAtomic } = await import(${JSON.stringify(path.join(ROOT, 'dist/main/core/fs/atomic-file.js'))});
    const pad = 'x'.repeat(256 * 1024);
    process.stdout.write('go\\n');
    for (let n = ${from}; ; n++) await writeJsonAtomic(${JSON.stringify(file)}, { n, pad }, ${JSON.stringify(`${file}.bak`)});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exited = new Promise((r) => child.on('exit', r));
  return {
    ready,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function readVersion(file: string): number {
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as { n?: unknown };
  if (typeof value.n !== 'number') throw new Error(`${file} has no version`);
  return value.n;
}

describe('a writer killed at random moments', () => {
  it('leaves the file and its backup whole, old or new; the next write removes the dead writer’s temp files', async () => {
    const dir = fs.mkdtempSync(path.join(sb.home, 'writes-'));
    const file = path.join(dir, 'machine.json');
    await writeJsonAtomic(file, { n: 0, pad: '' });
    const trials = 60;
    const torn: string[] = [];
    let tempsLeft = 0;
    let last = 0;
    for (let i = 0; i < trials; i++) {
      const writer = startWriter(file, last + 1);
      await writer.ready;
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      await writer.kill();
      try {
        const n = readVersion(file);
        expect(n).toBeGreaterThanOrEqual(last);
        last = n;
      } catch (err) {
        torn.push(`machine.json: ${(err as Error).message}`);
      }
      if (fs.existsSync(`${file}.bak`)) {
        try {
          expect(readVersion(`${file}.bak`)).toBeLessThanOrEqual(last);
        } catch (err) {
          torn.push(`machine.json.bak: ${(err as Error).message}`);
        }
      }
      const temps = fs.readdirSync(dir).filter((e) => e.endsWith('.tmp'));
      tempsLeft += temps.length;
      // The next write (here: this process's) sweeps what the dead writer left.
      await writeJsonAtomic(file, { n: ++last, pad: '' }, `${file}.bak`);
      expect(fs.readdirSync(dir).filter((e) => e.endsWith('.tmp'))).toEqual([]);
    }
    expect(torn, `${torn.length} of ${trials} torn`).toEqual([]);
    // The kills did land mid-write: temp files were left behind, and swept.
    expect(tempsLeft).toBeGreaterThan(0);
  });
});
