// The destination of a live migration gives its QEMU the RAM the source's QEMU has, not the RAM it
// would give the machine itself: a RAM stream loads only into RAM of its own size, and the two ends
// can differ (TCG pads its guests' RAM, KVM does not; an older VMDesk did not). A real core and real
// QEMU waiting for the stream (`-incoming defer`), then aborted: nothing left. A size that is not a
// pad's is refused before anything is made.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineConfig } from '../api/machine-config.js';
import { VmdeskError } from '../api/errors.js';
import { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { guestRamKiB } from '../core/qemu/qemu-args.js';
import { makeSandbox, ok, type Sandbox } from './harness.js';

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
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes('-uuid') && args.includes(uuid) && args.some((a) => a.includes(dest.runtime))) return args[args.indexOf('-m') + 1];
  }
  return undefined;
}

const machineDir = (): string => path.join(dest.home, 'machines', 'mover');
const CHUNK = 768 * 1024;

/** Prepared there, with the boot files sent ahead (as the source does before it starts QEMU there). */
async function prepare(ramKiB?: number): Promise<string> {
  const { token } = await service.prepareIncoming({ config, disks: disks(), ...(ramKiB ? { ramKiB } : {}) });
  for (const file of [config.kernelBoot?.kernel, config.kernelBoot?.initrd])
    if (file) {
      const bytes = fs.readFileSync(path.join(sourceDir, file));
      // In chunks the API takes (at most 1 MiB of base64 each).
      for (let at = 0; at < bytes.length; at += CHUNK)
        await service.incomingFile(token, file, at, bytes.subarray(at, at + CHUNK).toString('base64'));
    }
  return token;
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
});
