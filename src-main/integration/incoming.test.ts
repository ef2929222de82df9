// The destination of a live migration, driven here as the source's VMDesk drives it: a real core and
// real QEMU waiting for the stream (`-incoming defer`), then aborted, nothing left. Its QEMU gets the
// RAM the source's QEMU has, not the RAM it would give the machine itself: a RAM stream loads only into
// RAM of its own size, and the two ends can differ (TCG pads its guests' RAM, KVM does not; an older
// VMDesk did not); a size that is not a pad's is refused before anything is made. The boot files
// arrive on its files socket as raw streams, byte for byte; a wrong token or a path out of the
// machine folder is refused there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineConfig } from '../api/machine-config.js';
import { VmdeskError } from '../api/errors.js';
import { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { isProcessAlive } from '../core/fs/lock-file.js';
import { sendFileStream } from '../core/migration/file-stream.js';
import { guestRamKiB } from '../core/qemu/qemu-args.js';
import { commandLines, makeSandbox, ok, type Sandbox } from './harness.js';

let source: Sandbox;
let dest: Sandbox;
let service: CoreService;
let core: Core;
let config: MachineConfig;
let sourceDir: string;

beforeAll(async () => {
  source = makeSandbox();
  dest = makeSandbox();
  await ok(source, ['create', 'mover', '--demo', '--memory', '128', '--disk', '16M']);
  sourceDir = (JSON.parse(await ok(source, ['show', 'mover', '--json'])) as { dir: string }).dir;
  config = JSON.parse(fs.readFileSync(path.join(sourceDir, 'machine.json'), 'utf8')) as MachineConfig;
  core = new Core({ env: dest.env });
  service = new CoreService(core);
});
afterAll(async () => {
  await source.cleanup();
  await dest.cleanup();
});

/** The `-m` option of the QEMU whose command line names `uuid` in this sandbox's runtime dir. */
function ramOption(uuid: string): string | undefined {
  for (const { args } of commandLines())
    if (args.includes('-uuid') && args.includes(uuid) && args.some((a) => a.includes(dest.runtime))) return args[args.indexOf('-m') + 1];
  return undefined;
}

const machineDir = (): string => path.join(dest.home, 'machines', 'mover');
const bootFiles = (): string[] => [config.kernelBoot?.kernel, config.kernelBoot?.initrd].filter((f): f is string => !!f);

/** Prepared there, with the boot files sent ahead on its files socket (as the source does before it starts QEMU there). */
async function prepare(ramKiB?: number): Promise<string> {
  const ready = await service.prepareIncoming({ config, disks: disks(), ...(ramKiB ? { ramKiB } : {}) });
  expect(ready.filesSocket).toBeTruthy();
  await Promise.all(bootFiles().map((file) => sendFileStream(ready.filesSocket ?? '', ready.token, file, path.join(sourceDir, file))));
  for (const file of bootFiles())
    expect(fs.readFileSync(path.join(machineDir(), file)).equals(fs.readFileSync(path.join(sourceDir, file)))).toBe(true);
  return ready.token;
}

const disks = (): Array<{ id: string; virtualBytes: number }> => config.disks.map((d) => ({ id: d.id, virtualBytes: 16 * 1024 * 1024 }));

describe('an incoming migration on this host', () => {
  it("starts QEMU with the source's unpadded RAM (a KVM or older source), not this TCG host's padded size", async () => {
    const token = await prepare(128 * 1024);
    try {
      await service.startIncoming(token);
      expect(ramOption(config.uuid)).toBe('size=128M');
    } finally {
      await service.finishIncoming(token, 'abort');
    }
    expect(ramOption(config.uuid)).toBeUndefined();
    expect(fs.existsSync(machineDir())).toBe(false);
  });

  it('without a size from the source, gives the RAM this host gives the machine (TCG: 8 KiB more)', async () => {
    const ramKiB = guestRamKiB(128, (await core.host()).preferredAccel ?? 'tcg');
    const token = await prepare();
    try {
      await service.startIncoming(token);
      expect(ramOption(config.uuid)).toBe(ramKiB % 1024 ? `size=${ramKiB}K` : 'size=128M');
    } finally {
      await service.finishIncoming(token, 'abort');
    }
    expect(fs.existsSync(machineDir())).toBe(false);
  });

  it("refuses a RAM size that is not the machine's (more than a pad away), making nothing", async () => {
    const refused = await service.prepareIncoming({ config, disks: disks(), ramKiB: 256 * 1024 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VmdeskError);
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/262144 KiB is not the 128 MiB of mover/) });
    expect(fs.existsSync(machineDir())).toBe(false);
  });

  it('takes files only for its own migration and inside the machine folder; its socket goes at start', async () => {
    const ready = await service.prepareIncoming({ config, disks: disks() });
    const socket = ready.filesSocket ?? '';
    const kernel = path.join(sourceDir, config.kernelBoot?.kernel ?? '');
    try {
      await expect(sendFileStream(socket, '00000000-0000-4000-8000-000000000000', 'boot/vmlinuz', kernel)).rejects.toThrow(
        /No such incoming migration/,
      );
      await expect(sendFileStream(socket, ready.token, '../escape', kernel)).rejects.toThrow(/Not a file of an incoming migration/);
      await expect(sendFileStream(socket, ready.token, '/etc/passwd', kernel)).rejects.toThrow(/Not a file of an incoming migration/);
      expect(fs.existsSync(path.join(dest.home, 'machines', 'escape'))).toBe(false);
    } finally {
      await service.finishIncoming(ready.token, 'abort');
    }
    expect(fs.existsSync(socket)).toBe(false);
    expect(fs.existsSync(machineDir())).toBe(false);
  });

  it("starts the machine's agent at prepare, which waits and then runs QEMU at start: no second agent", async () => {
    const before = agents();
    const token = await prepare();
    try {
      const standby = newAgent(before);
      // It waits: nothing of the machine's runtime is made before start.
      await sleep(300);
      expect(isProcessAlive(standby)).toBe(true);
      expect(fs.existsSync(path.join(core.runtime.dir(config.uuid), 'agent.pid'))).toBe(false);
      await service.startIncoming(token);
      expect(fs.readFileSync(path.join(core.runtime.dir(config.uuid), 'agent.pid'), 'utf8').trim()).toBe(String(standby));
      expect(ramOption(config.uuid)).toBeDefined();
    } finally {
      await service.finishIncoming(token, 'abort');
    }
    expect(fs.existsSync(machineDir())).toBe(false);
  });

  it('ends the waiting agent when the migration is aborted before start, leaving nothing', async () => {
    const before = agents();
    const token = await prepare();
    const standby = newAgent(before);
    await service.finishIncoming(token, 'abort');
    await until(() => !isProcessAlive(standby));
    expect(fs.existsSync(machineDir())).toBe(false);
    expect(fs.existsSync(core.runtime.dir(config.uuid))).toBe(false);
  });

  it('a waiting agent whose VMDesk is gone ends without launching anything', async () => {
    // Another process (as a `vmdesk stdio` session) starts the agent ahead, then dies without a word.
    const runtime = path.join(REPO, 'dist', 'main', 'core', 'vm', 'vm-runtime.js');
    const folder = path.join(dest.home, 'orphan-standby');
    fs.mkdirSync(folder, { recursive: true });
    const script = `const { VmRuntime } = await import(${JSON.stringify(runtime)}); console.log(new VmRuntime(process.env).standby(${JSON.stringify(config.uuid)}, ${JSON.stringify(folder)}).pid); process.exit(0);`;
    const parent = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: dest.env, encoding: 'utf8' });
    expect(parent.status, parent.stderr).toBe(0);
    // (It may have ended already: its parent's end of the pipe closed with the parent.)
    const standby = Number(parent.stdout.trim());
    expect(standby).toBeGreaterThan(0);
    await until(() => !isProcessAlive(standby));
    expect(fs.existsSync(core.runtime.dir(config.uuid))).toBe(false);
    expect(ramOption(config.uuid)).toBeUndefined();
  });
});

const REPO = path.resolve(import.meta.dirname, '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); await sleep(50)) if (Date.now() > deadline) throw new Error('timed out waiting');
}

/**
 * Pids of this sandbox's agents: their environment names its runtime dir. (Their command line does
 * not tell a waiting one apart: an agent's title replaces it once its code has loaded.)
 */
function agents(): number[] {
  const agentOf = (args: string[]): boolean => args[0]?.trim() === 'vmdesk-agent' || args.some((a) => a.endsWith('vmdesk-agent.cjs'));
  return [...commandLines()]
    .filter(({ pid, args }) => {
      if (!agentOf(args)) return false;
      try {
        return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`VMDESK_RUNTIME_DIR=${dest.runtime}`);
      } catch {
        return false;
      }
    })
    .map(({ pid }) => pid);
}

/** The one agent of this sandbox started since `before` was taken. */
function newAgent(before: number[]): number {
  const started = agents().filter((pid) => !before.includes(pid));
  expect(started).toHaveLength(1);
  return started[0] ?? 0;
}
