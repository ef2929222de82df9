// Crash consistency of the files VMDesk writes: a writer SIGKILLed at random moments always leaves
// the old or the new version (and a whole backup); its temp files go with the next write. A corrupt
// machine.json makes that one machine show as broken, with the reason and its backup offered; the
// others load; `vmdesk repair NAME --from-backup` brings it back without overwriting the broken file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJsonAtomic } from '../core/fs/atomic-file.js';
import { ROOT, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

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

interface Listed {
  uuid: string;
  dir: string;
  config: { name: string; notes: string } | null;
  broken?: { reason: string; backup: string | null; name: string };
}

describe('a corrupt or empty machine.json', () => {
  it('shows that machine as broken with the reason and its backup; the others load; repair --from-backup brings it back', async () => {
    for (const name of ['good', 'empty', 'garbage']) {
      await ok(sb, ['create', name, '--demo']);
      // A second version, so machine.json.bak holds a whole previous configuration.
      await ok(sb, ['modify', name, '--notes', `${name} v2`]);
    }
    const list = JSON.parse(await ok(sb, ['list', '--json'])) as Listed[];
    const dirOf = (name: string): string => list.find((m) => m.config?.name === name)?.dir ?? '';
    fs.writeFileSync(path.join(dirOf('empty'), 'machine.json'), '');
    fs.writeFileSync(path.join(dirOf('garbage'), 'machine.json'), '{"version": 1, "name": "garb');
    const brokenBytes = fs.readFileSync(path.join(dirOf('garbage'), 'machine.json'));

    const after = JSON.parse(await ok(sb, ['list', '--json'])) as Listed[];
    expect(after.find((m) => m.config?.name === 'good')?.config?.notes).toBe('good v2');
    for (const name of ['empty', 'garbage']) {
      const m = after.find((x) => x.dir === dirOf(name));
      expect(m?.config).toBeNull();
      expect(m?.broken).toMatchObject({ name, backup: path.join(dirOf(name), 'machine.json.bak') });
      expect(m?.broken?.reason).toMatch(/machine\.json/);
    }
    expect(await ok(sb, ['list'])).toMatch(/^garbage\s+broken/m);
    const shown = await ok(sb, ['show', 'garbage']);
    expect(shown).toContain('State:       broken');
    expect(shown).toContain('vmdesk repair garbage --from-backup');

    // Every operation on it is refused with the way back, and nothing rewrites the broken file.
    for (const args of [
      ['start', 'garbage'],
      ['modify', 'garbage', '--cpus', '2'],
      ['delete', 'garbage'],
    ]) {
      const r = await vmdesk(sb, args);
      expect(r.code, args.join(' ')).toBe(5);
      expect(r.stderr).toContain('vmdesk repair garbage --from-backup');
    }
    expect(fs.readFileSync(path.join(dirOf('garbage'), 'machine.json'))).toEqual(brokenBytes);

    for (const name of ['empty', 'garbage']) {
      expect(await ok(sb, ['repair', name, '--from-backup'])).toContain(`Repaired ${name} from its backup`);
      const fixed = JSON.parse(await ok(sb, ['show', name, '--json'])) as Listed;
      // The backup is the version before the last change.
      expect(fixed.config?.name).toBe(name);
      expect(fixed.broken).toBeUndefined();
    }
    const kept = fs.readdirSync(dirOf('garbage')).filter((f) => f.startsWith('machine.json.broken-'));
    expect(kept).toHaveLength(1);
    expect(fs.readFileSync(path.join(dirOf('garbage'), kept[0] ?? ''))).toEqual(brokenBytes);
    await ok(sb, ['start', 'garbage']);
    await ok(sb, ['stop', 'garbage', '--force']);
    // A machine that is not broken has nothing to repair.
    expect((await vmdesk(sb, ['repair', 'good', '--from-backup'])).code).toBe(5);
  });
});
