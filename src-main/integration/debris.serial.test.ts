// What a SIGKILLed create, import, export or move leaves behind is recognised as debris and swept by
// the next operation, so a name held only by debris never blocks the user; a folder that holds a
// user's machine (a valid machine.json, no VMDesk marker) is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../core/core.js';
import { CLI, makeSandbox, needsRoot, ok, vmdesk, type Sandbox } from './harness.js';

let sb: Sandbox;
let work: string;
const mounts: string[] = [];

beforeAll(async () => {
  sb = makeSandbox();
  work = fs.mkdtempSync(path.join(sb.home, 'work-'));
  await ok(sb, ['create', 'src', '--demo']);
});
afterAll(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  await sb.cleanup();
});

const machinesDir = (): string => path.join(sb.home, 'machines');

async function registered(): Promise<Array<{ name: string; dir: string }>> {
  const list = JSON.parse(await ok(sb, ['list', '--json'])) as Array<{ dir: string; config: { name: string } | null }>;
  return list.map((m) => ({ name: m.config?.name ?? '', dir: m.dir }));
}

/** Run the CLI and SIGKILL it when `when` fires (or after `afterMs`); resolves once it is dead. */
async function killWhen(args: string[], when: (kill: () => void) => void): Promise<void> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env: sb.env, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  when(() => child.kill('SIGKILL'));
  await exited;
}

/** SIGKILL the moment an entry named `name` (or starting with it, with `prefix`) shows up in `dir` (inotify). */
function onAppear(dir: string, name: string, prefix = false): (kill: () => void) => void {
  return (kill) => {
    const watcher = fs.watch(dir, (_event, file) => {
      if (file && (prefix ? file.startsWith(name) : file === name) && fs.existsSync(path.join(dir, file))) {
        kill();
        watcher.close();
      }
    });
    setTimeout(() => watcher.close(), 60_000).unref();
  };
}

function afterMs(ms: number): (kill: () => void) => void {
  return (kill) => void setTimeout(kill, ms);
}

describe('a killed create', () => {
  it('killed as machines/NAME appears: the retry creates it, nothing else is left', async () => {
    let leftBehind = 0;
    const blocked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `c${i}`;
      await killWhen(['create', name, '--demo'], onAppear(machinesDir(), name));
      // A kill that came once the create was done (a quick one) left a whole machine: nothing to retry.
      if ((await registered()).some((m) => m.name === name)) continue;
      if (fs.existsSync(path.join(machinesDir(), name))) leftBehind++;
      const retry = await vmdesk(sb, ['create', name, '--demo']);
      if (retry.code !== 0) blocked.push(`${name}: ${retry.code} ${retry.stderr.trim()}`);
    }
    // The kills did land between the folder's rename and its registration; no leftover blocked a retry.
    expect(leftBehind).toBeGreaterThan(0);
    expect(blocked, `${blocked.length} of 5 blocked`).toEqual([]);
    expect(fs.readdirSync(machinesDir()).filter((e) => e.startsWith('.'))).toEqual([]);
    for (let i = 0; i < 5; i++) await ok(sb, ['delete', `c${i}`]);
  });

  it('a folder holding a valid machine.json without a VMDesk marker is a user machine: never swept', async () => {
    const { dir } = JSON.parse(await ok(sb, ['show', 'src', '--json'])) as { dir: string };
    const user = path.join(machinesDir(), 'users-own');
    fs.cpSync(dir, user, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(user, 'machine.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(
      path.join(user, 'machine.json'),
      JSON.stringify({ ...config, uuid: '0e3f5c1e-0000-4000-8000-000000000001', name: 'users-own' }),
    );
    const refused = await vmdesk(sb, ['create', 'users-own', '--demo']);
    expect(refused.code).toBe(4);
    expect(fs.existsSync(path.join(user, 'disks', 'disk0.qcow2'))).toBe(true);
    await new Core({ env: sb.env }).watch().then((stop) => stop());
    expect(fs.existsSync(path.join(user, 'disks', 'disk0.qcow2'))).toBe(true);
    fs.rmSync(user, { recursive: true });
  });
});

describe('a killed import', () => {
  it('killed at any moment: the retry under the same name works, no folder is left behind', async () => {
    const ova = path.join(work, 'src.ova');
    await ok(sb, ['export', 'src', ova]);
    const blocked: string[] = [];
    const trials = 10;
    for (let i = 0; i < trials; i++) {
      const name = `imp${i}`;
      // Spread over the whole import; every other one killed as its folder appears.
      await killWhen(['import', ova, '--name', name], i % 2 === 0 ? onAppear(machinesDir(), name) : afterMs(300 + i * 150));
      const retry = await vmdesk(sb, ['import', ova, '--name', name]);
      if (retry.code !== 0 && !(await registered()).some((m) => m.name === name)) blocked.push(`${name}: ${retry.stderr.trim()}`);
    }
    expect(blocked, `${blocked.length} of ${trials} blocked`).toEqual([]);
    const names = new Set((await registered()).map((m) => path.basename(m.dir)));
    expect(fs.readdirSync(machinesDir()).filter((e) => !names.has(e))).toEqual([]);
    for (let i = 0; i < trials; i++) await ok(sb, ['delete', `imp${i}`]);
  });
});

describe('a killed export', () => {
  it('leaves no scratch folder after the next export in that folder', async () => {
    const out = fs.mkdtempSync(path.join(work, 'exp-'));
    // Half killed as their scratch folder appears, half later on.
    for (let i = 0; i < 8; i++)
      await killWhen(
        ['export', 'src', path.join(out, `k${i}.ova`)],
        i % 2 === 0 ? onAppear(out, '.vmdesk-export-', true) : afterMs(150 + i * 120),
      );
    await ok(sb, ['export', 'src', path.join(out, 'done.ova')]);
    expect(fs.readdirSync(out).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(fs.readdirSync(out).filter((e) => e.endsWith('.ova'))).toContain('done.ova');
  });
});

describe('a killed move', () => {
  it('killed after it switched the library (across filesystems): the old copy is swept by the next operation', async (ctx) => {
    needsRoot(ctx, 'a second filesystem on a loop device');
    const image = path.join(sb.home, 'other.ext4');
    const other = path.join(sb.home, 'other');
    fs.mkdirSync(other);
    for (const [cmd, args] of [
      ['truncate', ['-s', '1G', image]],
      ['mkfs.ext4', ['-q', '-F', image]],
      ['mount', ['-o', 'loop', image, other]],
    ] as const) {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    }
    mounts.push(other);
    const left: string[] = [];
    let switched = 0;
    for (let i = 0; i < 3; i++) {
      const name = `mv${i}`;
      await ok(sb, ['create', name, '--demo']);
      const { dir } = JSON.parse(await ok(sb, ['show', name, '--json'])) as { dir: string };
      // The switch is the library's atomic rewrite: kill as library.json is replaced.
      await killWhen(['move', name, other], onAppear(sb.home, 'library.json'));
      const moved = JSON.parse(await ok(sb, ['show', name, '--json'])) as { dir: string };
      if (moved.dir === dir) continue;
      switched++;
      expect(moved.dir).toBe(path.join(other, name));
      // The next operation (any create, clone, import or move; or a long-lived core starting) sweeps it.
      await ok(sb, ['create', `after${i}`, '--demo']);
      if (fs.existsSync(dir)) left.push(dir);
      await ok(sb, ['start', name]);
      await ok(sb, ['wait', name, '--text', 'vmdesk-demo# ', '--timeout', '90']);
      await ok(sb, ['stop', name, '--force']);
      expect(fs.existsSync(path.join(other, name, '.vmdesk-owner'))).toBe(false);
    }
    expect(switched).toBeGreaterThan(0);
    expect(left).toEqual([]);
  });
});
