// The switch as the detached process ensureInternalSwitch starts (bundled here with esbuild, as
// scripts/build.mjs does): one per network even when started twice at once, idle exit, and a new
// switch after one was killed with SIGKILL.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../fs/lock-file.js';
import { ensureSwitchWith, holdSwitch, internalSwitchSocket } from '../internal-switch.js';
import { switchFiles } from './switch-server.js';
import { BROADCAST, FakeClient, ethernet, settle } from './testing.js';

let dir: string;
let entry: string;
let env: NodeJS.ProcessEnv;
const pids: number[] = [];

function switchPid(socket: string): number {
  return (JSON.parse(fs.readFileSync(switchFiles(socket).pid, 'utf8')) as { pid: number }).pid;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await settle(50);
  return check();
}

beforeAll(async () => {
  dir = fs.mkdtempSync('/tmp/vmswp-');
  entry = path.join(dir, 'switch.cjs');
  await build({
    entryPoints: [path.join(import.meta.dirname, 'switch-main.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  env = { ...process.env, VMDESK_RUNTIME_DIR: path.join(dir, 'rt'), VMDESK_SWITCH_IDLE_MS: '500', VMDESK_SWITCH_HOLD_MS: '1000' };
});
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('internal network switch process', () => {
  it('starts once for two cores racing, in a private directory, and serves frames', async () => {
    const [a, b] = await Promise.all([ensureSwitchWith(entry, 'lab', env), ensureSwitchWith(entry, 'lab', env)]);
    expect(a).toBe(internalSwitchSocket('lab', env));
    expect(b).toBe(a);
    pids.push(switchPid(a));
    expect(fs.statSync(path.dirname(a)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(a).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(switchFiles(a).log, 'utf8')).toMatch(/listening on/);
    // A third start finds the running switch.
    expect(await ensureSwitchWith(entry, 'lab', env)).toBe(a);
    expect(switchPid(a)).toBe(pids[0]);
    const c1 = await FakeClient.connect(a);
    const c2 = await FakeClient.connect(a);
    c1.send(ethernet(BROADCAST, '52:54:00:00:00:01', 'ping'));
    expect(await waitFor(() => c2.payloads().includes('ping'), 2000)).toBe(true);
    c1.close();
    c2.close();
  });

  it('exits a while after its last client leaves, and removes its socket', async () => {
    const socket = internalSwitchSocket('lab', env);
    const pid = switchPid(socket);
    expect(await waitFor(() => !isProcessAlive(pid), 5000)).toBe(true);
    expect(fs.existsSync(socket)).toBe(false);
    expect(fs.existsSync(switchFiles(socket).pid)).toBe(false);
    expect(fs.readFileSync(switchFiles(socket).log, 'utf8')).toMatch(/exiting: no clients left/);
  });

  it('replaces a switch killed with SIGKILL, stale socket and all', async () => {
    const socket = await ensureSwitchWith(entry, 'killed', env);
    const pid = switchPid(socket);
    pids.push(pid);
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !isProcessAlive(pid), 2000)).toBe(true);
    expect(fs.existsSync(socket)).toBe(true);
    expect(await holdSwitch(socket)).toBe(false);
    expect(await ensureSwitchWith(entry, 'killed', env)).toBe(socket);
    const again = switchPid(socket);
    pids.push(again);
    expect(again).not.toBe(pid);
    expect(await holdSwitch(socket)).toBe(true);
  });

  it('explains a switch that cannot start, with its log', async () => {
    const broken = path.join(dir, 'broken.cjs');
    fs.writeFileSync(broken, "process.stderr.write('no luck\\n'); process.exit(3);\n");
    await expect(ensureSwitchWith(broken, 'broken', env)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/did not start[\s\S]*no luck/),
    });
  });

  it('keeps socket paths short whatever the network name, and says when the runtime dir is too deep', async () => {
    expect(path.basename(internalSwitchSocket('a'.repeat(63), env))).toHaveLength(21);
    expect(internalSwitchSocket('lab', env)).not.toBe(internalSwitchSocket('Lab', env));
    const deep = { ...env, VMDESK_RUNTIME_DIR: path.join(dir, 'd'.repeat(100)) };
    await expect(ensureSwitchWith(entry, 'lab', deep)).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message: expect.stringContaining('VMDESK_RUNTIME_DIR'),
    });
    await expect(ensureSwitchWith(entry, '', env)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
