// Import and export (OVA, vmdk, vdi), P2V and V2P through the real CLI, with real QEMU and the demo
// guest: what goes out comes back and boots; bad or hostile input is refused and nothing is lost;
// a killed import or export leaves the source intact and nothing half-made behind.
// Runs alone (*.serial.test.ts): loop devices and a full filesystem as root, GiB imports killed mid-way.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarWriter, formatManifest, readTarIndex } from '../core/portability/ova.js';
import { DEMO_CMDLINE } from '../core/demo/demo-guest.js';
import { CLI, eventually, makeSandbox, needsRoot, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;
let work: string;
let srcDir: string;
/** The demo machine's kernel file (boot/vmlinux under TCG, boot/vmlinuz under KVM). */
function srcKernel(): string {
  const config = JSON.parse(fs.readFileSync(path.join(srcDir, 'machine.json'), 'utf8')) as { kernelBoot: { kernel: string } };
  return path.join(srcDir, config.kernelBoot.kernel);
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function machineNames(listJson: string): string[] {
  return (JSON.parse(listJson) as Array<{ config: { name: string } }>).map((m) => m.config.name);
}

async function names(): Promise<string[]> {
  return machineNames(await ok(sb, ['list', '--json']));
}

/** No machine folder other than the registered ones, and no staging folder. */
function machineFolders(): string[] {
  return fs.readdirSync(path.join(sb.home, 'machines')).sort();
}

/** Boot a machine, type a command and wait for its answer on the serial console; then power off. */
async function bootAndCheck(name: string, command: string, answer: string): Promise<void> {
  await ok(sb, ['start', name]);
  try {
    await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120'], { timeoutMs: 150_000 });
    await ok(sb, ['send', name, `${command}\\n`]);
    await ok(sb, ['wait', name, '--text', answer, '--timeout', '60']);
  } finally {
    await ok(sb, ['stop', name, '--force']);
  }
}

interface Member {
  name: string;
  data: Buffer;
}

async function readOva(file: string): Promise<Member[]> {
  const all = fs.readFileSync(file);
  return (await readTarIndex(file)).map((e) => ({ name: e.name, data: all.subarray(e.offset, e.offset + e.size) }));
}

/** Write an OVA from members; with a fresh manifest (so only the check under test can refuse it). */
async function writeOva(file: string, members: Member[], manifest: 'recompute' | 'keep' = 'recompute'): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  const tar = new TarWriter(handle);
  for (const m of members) {
    if (m.name.endsWith('.mf') && manifest === 'recompute') {
      const lines = members
        .filter((x) => !x.name.endsWith('.mf'))
        .map((x) => ({ file: x.name, sha256: createHash('sha256').update(x.data).digest('hex') }));
      await tar.addBuffer(m.name, Buffer.from(formatManifest(lines)));
    } else await tar.addBuffer(m.name, m.data);
  }
  await tar.finish();
  await handle.close();
}

/** A vmdk whose header (and streamOptimized footer) claims `sectors` sectors. */
function patchVmdkCapacity(data: Buffer, sectors: bigint): Buffer {
  const out = Buffer.from(data);
  for (let i = out.indexOf('KDMV'); i !== -1; i = out.indexOf('KDMV', i + 4)) {
    if (i % 512 === 0) out.writeBigUInt64LE(sectors, i + 12);
  }
  return out;
}

/** A 1 GiB raw image of non-zero bytes: long enough to convert for a kill to land mid-way. */
function bigRaw(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let i = 0; i < 64; i++) {
    chunk.writeUInt32LE(i, 0);
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
}

/** Run the CLI and SIGKILL it once `ready()` holds; resolves when it is gone. */
async function killWhen(args: string[], ready: () => boolean, timeoutMs = 120_000): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { env: sb.env, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (done) throw new Error(`vmdesk ${args.join(' ')} finished before it could be killed`);
    if (Date.now() > deadline) throw new Error('timed out waiting to kill');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await exited;
}

/** Waits (up to 10 s) for the qemu-img processes in `dir` to end; returns those still there. */
function qemuImgGone(dir: string): Promise<string[]> {
  return eventually(
    () => Promise.resolve(qemuImgIn(dir)),
    (left) => left.length === 0,
    10_000,
  );
}

/** qemu-img processes still working in `dir` (an orphan would keep writing into a swept folder). */
function qemuImgIn(dir: string): string[] {
  return run('ps', ['-eo', 'pid,args'])
    .split('\n')
    .filter((l) => l.includes('qemu-img') && l.includes(dir) && !l.includes(' ps '));
}

function sizeOf(file: string): number {
  return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

beforeAll(async () => {
  sb = makeSandbox();
  work = fs.mkdtempSync(path.join(sb.home, 'work-'));
  // The source machine: the demo guest with a file written on its disk (ext2 made by the guest).
  await ok(sb, ['create', 'src', '--demo']);
  srcDir = path.join(sb.home, 'machines', 'src');
  await ok(sb, ['start', 'src']);
  await ok(sb, ['wait', 'src', '--text', PROMPT, '--timeout', '120'], { timeoutMs: 150_000 });
  await ok(sb, [
    'send',
    'src',
    'mke2fs -q /dev/vda && mount /dev/vda /mnt && echo portable-$((6*7)) > /mnt/f && umount /mnt && sync && echo written-ok\\n',
  ]);
  await ok(sb, ['wait', 'src', '--text', '\nwritten-ok', '--timeout', '60']);
  await ok(sb, ['stop', 'src', '--force']);
}, 300_000);

afterAll(async () => {
  await sb.cleanup();
});

describe('export and import an OVA', () => {
  let ova: string;

  it('exports the stopped demo VM as an OVA: descriptor, manifest, streamOptimized disk, kernel', async () => {
    ova = path.join(work, 'src.ova');
    const out = await ok(sb, ['export', 'src', ova]);
    expect(out).toContain(`Exported src to ${ova}`);
    const members = await readOva(ova);
    expect(members.map((m) => m.name)).toEqual(['src.ovf', 'src.mf', 'src-disk001.vmdk', 'src-vmlinuz', 'src-initrd.img']);
    // Every member's digest is in the manifest, in VirtualBox's format.
    const manifest = members[1]?.data.toString() ?? '';
    for (const m of members.filter((x) => !x.name.endsWith('.mf'))) {
      expect(manifest).toContain(`SHA256 (${m.name}) = ${createHash('sha256').update(m.data).digest('hex')}\n`);
    }
    const ovf = members[0]?.data.toString() ?? '';
    expect(ovf).toContain('ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"');
    expect(ovf).toContain('ovf:capacity="268435456"');
    // The disk is a real streamOptimized vmdk holding the source disk's data.
    const vmdk = path.join(work, 'check.vmdk');
    fs.writeFileSync(vmdk, members[2]?.data ?? Buffer.alloc(0));
    const info = JSON.parse(run('qemu-img', ['info', '--output=json', vmdk])) as {
      format: string;
      'format-specific': { data: { 'create-type': string } };
    };
    expect(info.format).toBe('vmdk');
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
    expect(run('qemu-img', ['compare', vmdk, path.join(srcDir, 'disks', 'disk0.qcow2')])).toContain('identical');
    // GNU tar reads it too, and no scratch folder is left beside it.
    expect(run('tar', ['tf', ova]).split('\n')[0]).toBe('src.ovf');
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('refuses to export onto an existing file, to a non-.ova name, or while the machine runs', async () => {
    const exists = await vmdesk(sb, ['export', 'src', ova]);
    expect(exists.code).toBe(4);
    expect(exists.stderr).toContain('already exists');
    const badName = await vmdesk(sb, ['export', 'src', path.join(work, 'x.tar')]);
    expect(badName.code).toBe(2);
    await ok(sb, ['start', 'src']);
    try {
      const running = await vmdesk(sb, ['export', 'src', path.join(work, 'running.ova')]);
      expect(running.code).toBe(5);
      expect(running.stderr).toMatch(/src is running: stop it before exporting it/);
      expect(fs.existsSync(path.join(work, 'running.ova'))).toBe(false);
    } finally {
      await ok(sb, ['stop', 'src', '--force']);
    }
  });

  it('imports the OVA as a new machine that boots with the file still on its disk', async () => {
    const out = await ok(sb, ['import', ova, '--name', 'copy']);
    expect(out).toMatch(/^Imported copy \([0-9a-f-]{36}\)/);
    const copy = JSON.parse(await ok(sb, ['show', 'copy', '--json'])) as {
      config: {
        cpus: number;
        memoryMiB: number;
        disks: Array<{ bus: string; format: string }>;
        kernelBoot: { cmdline: string };
        nics: unknown[];
      };
    };
    expect(copy.config).toMatchObject({
      cpus: 1,
      memoryMiB: 512,
      disks: [{ bus: 'virtio', format: 'qcow2' }],
      kernelBoot: { cmdline: DEMO_CMDLINE },
    });
    expect(copy.config.nics).toHaveLength(1);
    await bootAndCheck('copy', 'mount -o ro /dev/vda /mnt && cat /mnt/f && umount /mnt', '\nportable-42');
  });

  it('inspects an OVA without importing it', async () => {
    const summary = JSON.parse(await ok(sb, ['import', ova, '--inspect', '--json'])) as Record<string, unknown>;
    expect(summary).toMatchObject({
      kind: 'ova',
      name: 'src',
      osType: 'linux',
      cpus: 1,
      memoryMiB: 512,
      firmware: 'bios',
      disks: [{ format: 'vmdk', capacityBytes: 268435456 }],
      nics: 1,
      kernelBoot: true,
    });
    expect(await ok(sb, ['import', ova, '--inspect'])).toMatch(
      /^OVA src: linux, 1 CPU, 512 MiB, BIOS, disks: vmdk 0\.25 GiB, 1 NIC, direct kernel boot/,
    );
    expect(await names()).not.toContain('src-2');
  });

  it('imports an OVF descriptor with its files beside it, but no file reached through a link', async () => {
    const folder = fs.mkdtempSync(path.join(work, 'ovf-'));
    run('tar', ['xf', ova, '-C', folder]);
    await ok(sb, ['import', path.join(folder, 'src.ovf'), '--name', 'from-ovf']);
    const disk = path.join(sb.home, 'machines', 'from-ovf', 'disks', 'disk0.qcow2');
    expect(run('qemu-img', ['compare', disk, path.join(srcDir, 'disks', 'disk0.qcow2')])).toContain('identical');
    fs.rmSync(path.join(folder, 'src-disk001.vmdk'));
    fs.symlinkSync(path.join(srcDir, 'disks', 'disk0.qcow2'), path.join(folder, 'src-disk001.vmdk'));
    const linked = await vmdesk(sb, ['import', path.join(folder, 'src.ovf'), '--name', 'linked']);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toContain('not a regular file (links are refused)');
  });

  it('imports under the appliance name by default and refuses a taken name', async () => {
    const taken = await vmdesk(sb, ['import', ova]);
    expect(taken.code).toBe(4);
    expect(taken.stderr).toContain('A machine named "src" already exists');
  });
});

describe('import disk images', () => {
  it('imports vmdk and vdi images (format probed, not taken from the name) and the vmdk one boots', async () => {
    const disk = path.join(srcDir, 'disks', 'disk0.qcow2');
    for (const fmt of ['vmdk', 'vdi']) {
      const image = path.join(work, `data.${fmt}`);
      run('qemu-img', ['convert', '-O', fmt, disk, image]);
      await ok(sb, ['import', image, '--name', `img-${fmt}`]);
      const imported = path.join(sb.home, 'machines', `img-${fmt}`, 'disks', 'disk0.qcow2');
      expect(JSON.parse(run('qemu-img', ['info', '--output=json', imported])).format).toBe('qcow2');
      expect(run('qemu-img', ['compare', disk, imported])).toContain('identical');
    }
    // A vdi named .vmdk is still read as the vdi it is.
    fs.copyFileSync(path.join(work, 'data.vdi'), path.join(work, 'misnamed.vmdk'));
    await ok(sb, ['import', path.join(work, 'misnamed.vmdk')]);
    expect(run('qemu-img', ['compare', disk, path.join(sb.home, 'machines', 'misnamed', 'disks', 'disk0.qcow2')])).toContain('identical');
    await ok(sb, [
      'modify',
      'img-vmdk',
      '--kernel',
      srcKernel(),
      '--initrd',
      path.join(srcDir, 'boot', 'initrd.img'),
      '--append',
      DEMO_CMDLINE,
    ]);
    await bootAndCheck('img-vmdk', 'mount -o ro /dev/vda /mnt && cat /mnt/f && umount /mnt', '\nportable-42');
  });
});

describe('P2V and V2P', () => {
  let raw: string;

  it('V2P writes a machine disk as a raw image identical to it, and refuses to overwrite a file', async () => {
    raw = path.join(work, 'physical.img');
    const out = await ok(sb, ['v2p', 'src', raw]);
    expect(out).toContain(`to ${raw}`);
    expect(run('qemu-img', ['info', '--output=json', raw])).toContain('"format": "raw"');
    expect(run('qemu-img', ['compare', '-F', 'raw', path.join(srcDir, 'disks', 'disk0.qcow2'), raw])).toContain('identical');
    const again = await vmdesk(sb, ['v2p', 'src', raw]);
    expect(again.code).toBe(4);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.vmdesk-v2p'))).toEqual([]);
  });

  it('P2V from a raw image file: the source is untouched and the copy holds the same disk', async () => {
    const before = sha256(raw);
    const mtime = fs.statSync(raw).mtimeMs;
    await ok(sb, ['p2v', raw, 'p2v-file']);
    expect(sha256(raw)).toBe(before);
    expect(fs.statSync(raw).mtimeMs).toBe(mtime);
    const disk = path.join(sb.home, 'machines', 'p2v-file', 'disks', 'disk0.qcow2');
    expect(run('qemu-img', ['compare', '-f', 'raw', raw, disk])).toContain('identical');
    // A qcow2 file is not a raw disk: refused rather than copied as bytes.
    const wrong = await vmdesk(sb, ['p2v', path.join(srcDir, 'disks', 'disk0.qcow2'), 'p2v-wrong']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('use vmdesk import');
  });

  it('P2V from a loop device (read-only), refusing it while mounted; the copy boots', async (ctx) => {
    needsRoot(ctx, 'a loop device, mounted');
    const loop = run('losetup', ['-f', '--show', '-r', raw]).trim();
    const mnt = fs.mkdtempSync(path.join(work, 'mnt-'));
    try {
      run('mount', ['-o', 'ro', loop, mnt]);
      const mounted = await vmdesk(sb, ['p2v', loop, 'p2v-mounted']);
      expect(mounted.code).toBe(5);
      expect(mounted.stderr).toContain(`mounted at ${mnt}`);
      run('umount', [mnt]);
      await ok(sb, ['p2v', loop, 'p2v-loop']);
    } finally {
      spawnSync('umount', [mnt]);
      spawnSync('losetup', ['-d', loop]);
    }
    expect(await names()).not.toContain('p2v-mounted');
    const disk = path.join(sb.home, 'machines', 'p2v-loop', 'disks', 'disk0.qcow2');
    expect(run('qemu-img', ['compare', '-f', 'raw', raw, disk])).toContain('identical');
    const cfg = JSON.parse(await ok(sb, ['show', 'p2v-loop', '--json'])) as { config: { disks: Array<{ bus: string }> } };
    expect(cfg.config.disks[0]?.bus).toBe('sata');
    await ok(sb, [
      'modify',
      'p2v-loop',
      '--kernel',
      srcKernel(),
      '--initrd',
      path.join(srcDir, 'boot', 'initrd.img'),
      '--append',
      DEMO_CMDLINE,
    ]);
    // The physical disk is now the guest's SATA disk, with its filesystem and file.
    await bootAndCheck('p2v-loop', 'mount -o ro /dev/sda /mnt && cat /mnt/f && umount /mnt', '\nportable-42');
  });

  it('V2P onto a loop device needs the confirmation, a big enough and unused device', async (ctx) => {
    needsRoot(ctx, 'loop devices');
    const big = path.join(work, 'dev-big.img');
    const small = path.join(work, 'dev-small.img');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 512 * 1024 * 1024);
    fs.writeFileSync(small, '');
    fs.truncateSync(small, 64 * 1024 * 1024);
    const bigLoop = run('losetup', ['-f', '--show', big]).trim();
    const smallLoop = run('losetup', ['-f', '--show', small]).trim();
    try {
      const unconfirmed = await vmdesk(sb, ['v2p', 'src', bigLoop]);
      expect(unconfirmed.code).toBe(2);
      expect(unconfirmed.stderr).toContain('--yes-overwrite-device');
      const tooSmall = await vmdesk(sb, ['v2p', 'src', smallLoop, '--yes-overwrite-device']);
      expect(tooSmall.code).toBe(2);
      expect(tooSmall.stderr).toMatch(/less than the 268435456 bytes/);
      expect(fs.readFileSync(small).every((b) => b === 0)).toBe(true);
      await ok(sb, ['v2p', 'src', bigLoop, '--yes-overwrite-device']);
      const head = Buffer.alloc(256 * 1024 * 1024);
      const fd = fs.openSync(big, 'r');
      fs.readSync(fd, head, 0, head.length, 0);
      fs.closeSync(fd);
      expect(createHash('sha256').update(head).digest('hex')).toBe(sha256(raw));
    } finally {
      spawnSync('losetup', ['-d', bigLoop]);
      spawnSync('losetup', ['-d', smallLoop]);
    }
  });
});

describe('bad input is refused and nothing is lost', () => {
  let members: Member[];
  let before: string[];

  beforeAll(async () => {
    members = await readOva(path.join(work, 'src.ova'));
    before = machineFolders();
  });

  async function refused(file: string, pattern: RegExp, name: string): Promise<void> {
    const r = await vmdesk(sb, ['import', file, '--name', name]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(await names()).not.toContain(name);
    expect(machineFolders()).toEqual(before);
  }

  it('an OVA with a path-traversal file name', async () => {
    const file = path.join(work, 'traversal.ova');
    // Our writer refuses such names; GNU tar writes them with -P.
    const dir = fs.mkdtempSync(path.join(work, 'trav-'));
    fs.writeFileSync(path.join(dir, 'src.ovf'), members[0]?.data ?? '');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'evil'), 'owned');
    run('tar', ['--format=ustar', '-cf', file, '-C', dir, 'src.ovf', '-C', path.join(dir, 'sub'), '-P', '../evil']);
    expect(run('tar', ['tf', file])).toContain('../evil');
    await refused(file, /unsafe file name "\.\.\/evil" \(path traversal/, 'trav');
    expect(fs.existsSync(path.join(sb.home, 'evil'))).toBe(false);
    // The descriptor itself may not point outside the archive either.
    const hrefEscape = path.join(work, 'href.ova');
    const ovf = members[0]?.data.toString().replace('ovf:href="src-disk001.vmdk"', 'ovf:href="../../etc/passwd"') ?? '';
    await writeOva(hrefEscape, [{ name: 'src.ovf', data: Buffer.from(ovf) }, ...members.slice(1)]);
    await refused(hrefEscape, /unsafe file name "\.\.\/\.\.\/etc\/passwd"/, 'href');
  });

  it('a truncated OVA', async () => {
    const file = path.join(work, 'truncated.ova');
    const whole = fs.readFileSync(path.join(work, 'src.ova'));
    fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    await refused(file, /truncated/, 'trunc');
  });

  it('a tampered disk (manifest digest mismatch)', async () => {
    const file = path.join(work, 'tampered.ova');
    const disk = Buffer.from(members[2]?.data ?? Buffer.alloc(0));
    disk[disk.length - 2000] = (disk[disk.length - 2000] ?? 0) ^ 0xff;
    await writeOva(file, [members[0]!, members[1]!, { name: members[2]!.name, data: disk }, ...members.slice(3)], 'keep');
    await refused(file, /does not match its SHA256 digest/, 'tampered');
  });

  it('a disk image that lies about its size, in an OVA and on its own', async () => {
    const vmdk = members[2]!;
    const huge = path.join(work, 'huge.ova');
    await writeOva(huge, [
      members[0]!,
      members[1]!,
      { name: vmdk.name, data: patchVmdkCapacity(vmdk.data, 1n << 50n) },
      ...members.slice(3),
    ]);
    await refused(huge, /impossible size|not a readable vmdk/, 'huge');
    const doubled = path.join(work, 'doubled.ova');
    await writeOva(doubled, [
      members[0]!,
      members[1]!,
      { name: vmdk.name, data: patchVmdkCapacity(vmdk.data, 1048576n) },
      ...members.slice(3),
    ]);
    await refused(doubled, /holds 536870912 bytes but the descriptor declares 268435456: the image lies about its size/, 'doubled');
    const alone = path.join(work, 'liar.vmdk');
    fs.writeFileSync(alone, patchVmdkCapacity(vmdk.data, 1n << 50n));
    await refused(alone, /impossible size|Cannot read the disk image/, 'liar');
  });

  it('a vmdk in an OVA whose extent is a host file', async () => {
    const descriptor = [
      '# Disk DescriptorFile',
      'version=1',
      'CID=fffffffe',
      'parentCID=ffffffff',
      'createType="monolithicFlat"',
      'RW 2048 FLAT "/etc/passwd" 0',
      'ddb.virtualHWVersion = "4"',
      '',
    ].join('\n');
    const ovf =
      members[0]?.data
        .toString()
        .replace('ovf:capacity="268435456"', 'ovf:capacity="1048576"')
        .replace(/(ovf:href="src-disk001.vmdk" ovf:size=")\d+"/, `$1${descriptor.length}"`) ?? '';
    const file = path.join(work, 'extent.ova');
    await writeOva(file, [
      { name: 'src.ovf', data: Buffer.from(ovf) },
      members[1]!,
      { name: members[2]!.name, data: Buffer.from(descriptor) },
      ...members.slice(3),
    ]);
    await refused(file, /refers to other files|not a readable vmdk/, 'extent');
  });

  it('a full disk: an export onto it and an import into a library on it fail cleanly', async (ctx) => {
    needsRoot(ctx, 'a small filesystem on a loop device');
    const img = path.join(work, 'small-fs.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 8 * 1024 * 1024);
    run('mkfs.ext4', ['-q', img]);
    const mnt = fs.mkdtempSync(path.join(work, 'full-'));
    run('mount', ['-o', 'loop', img, mnt]);
    try {
      const target = path.join(mnt, 'src.ova');
      const exp = await vmdesk(sb, ['export', 'src', target]);
      expect(exp.code, exp.stderr).toBe(10);
      expect(exp.stderr).toMatch(/no space left/i);
      expect(fs.readdirSync(mnt).filter((f) => f !== 'lost+found')).toEqual([]);
      // A second library on the full filesystem: the import fails, nothing is registered or left.
      const home = path.join(mnt, 'lib');
      const env = { ...sb.env, VMDESK_HOME: home };
      const imp = await vmdesk(sb, ['import', path.join(work, 'src.ova'), '--name', 'full'], { env });
      expect(imp.code, imp.stderr).toBe(10);
      expect(imp.stderr).toMatch(/no space left/i);
      const list = await vmdesk(sb, ['list', '--json'], { env });
      expect(JSON.parse(list.stdout)).toEqual([]);
      expect(fs.readdirSync(path.join(home, 'machines'))).toEqual([]);
      // The source machine still boots from its unchanged disk.
      expect(run('qemu-img', ['check', path.join(srcDir, 'disks', 'disk0.qcow2')])).toContain('No errors');
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('interrupted import and export', () => {
  let big: string;

  beforeAll(() => {
    const raw = path.join(work, 'big.raw');
    bigRaw(raw);
    big = path.join(work, 'big.vmdk');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, big]);
    fs.rmSync(raw);
  }, 180_000);

  it('a killed import leaves the source intact and nothing registered; the next import sweeps its leftovers', async () => {
    const before = sha256(big);
    const machines = path.join(sb.home, 'machines');
    const staged = (): string | null => {
      const s = fs.readdirSync(machines).find((f) => f.startsWith('.staging-'));
      return s ? path.join(machines, s) : null;
    };
    await killWhen(['import', big, '--name', 'killed'], () => {
      const s = staged();
      return s !== null && sizeOf(path.join(s, 'disks', 'disk0.qcow2')) > 64 * 1024 * 1024;
    });
    const leftover = staged();
    expect(leftover).not.toBeNull();
    // qemu-img dies with the CLI (parent-death signal) instead of writing on.
    expect(await qemuImgGone(leftover ?? '')).toEqual([]);
    expect(await names()).not.toContain('killed');
    expect(sha256(big)).toBe(before);
    await ok(sb, ['import', big, '--name', 'big'], { timeoutMs: 300_000 });
    expect(fs.existsSync(leftover ?? '')).toBe(false);
    expect(machineFolders().filter((f) => f.startsWith('.'))).toEqual([]);
    expect(run('qemu-img', ['compare', big, path.join(machines, 'big', 'disks', 'disk0.qcow2')])).toContain('identical');
  }, 600_000);

  it('a killed export leaves no .ova and the machine intact; the next export sweeps the scratch folder', async () => {
    const disk = path.join(sb.home, 'machines', 'big', 'disks', 'disk0.qcow2');
    const target = path.join(work, 'big.ova');
    const scratch = (): string | null => {
      const s = fs.readdirSync(work).find((f) => f.startsWith('.vmdesk-export-'));
      return s ? path.join(work, s) : null;
    };
    await killWhen(['export', 'big', target], () => {
      const s = scratch();
      return s !== null && sizeOf(path.join(s, 'big-disk001.vmdk')) > 1024 * 1024;
    });
    const leftover = scratch();
    expect(fs.existsSync(target)).toBe(false);
    expect(await qemuImgGone(leftover ?? '')).toEqual([]);
    expect(run('qemu-img', ['check', disk])).toContain('No errors');
    expect(run('qemu-img', ['compare', big, disk])).toContain('identical');
    // The lock the killed export held is taken over; the next export in that folder removes the leftovers.
    await ok(sb, ['export', 'src', path.join(work, 'again.ova')]);
    expect(fs.existsSync(leftover ?? '')).toBe(false);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 600_000);

  it('cancelling an export or an import task (as the UI does) removes what it half-made', async () => {
    const { Core } = await import('../core/core.js');
    const core = new Core({ env: sb.env });
    const cancelWhen = async <T>(run: { task: { id: string }; result: Promise<T> }, ready: () => boolean): Promise<unknown> => {
      while (!ready()) await new Promise((r) => setTimeout(r, 50));
      core.tasks.cancel(run.task.id);
      return run.result.then(
        () => null,
        (err: unknown) => err,
      );
    };
    const { runExport, runImport } = await import('../core/portability/operations.js');
    const target = path.join(work, 'cancelled.ova');
    const exportErr = await cancelWhen(runExport(core, 'big', target), () =>
      fs.readdirSync(work).some((f) => f.startsWith('.vmdesk-export-')),
    );
    expect(exportErr).toMatchObject({ code: 'CANCELLED' });
    expect(core.tasks.list().find((t) => t.title === 'Export big')?.state).toBe('cancelled');
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([]);
    const machines = path.join(sb.home, 'machines');
    const importErr = await cancelWhen(runImport(core, big, { name: 'cancelled' }), () =>
      fs.readdirSync(machines).some((f) => f.startsWith('.staging-')),
    );
    expect(importErr).toMatchObject({ code: 'CANCELLED' });
    expect(fs.readdirSync(machines).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await names()).not.toContain('cancelled');
    expect(qemuImgIn(work)).toEqual([]);
  }, 300_000);
});
