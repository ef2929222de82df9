// Images that point at host files (the QEMU/OpenStack/Lima CVE class), through every path that takes
// an image — create --import-disk, create --attach-disk, import, disk add --file — with the real CLI:
// each is refused with a clear error naming the reference and nothing is left in the library. A chain
// the user confirms is used and read by a booted guest; a raw disk whose guest wrote a qcow2 header
// naming a host file stays raw: booted, listed and cloned as raw, never reaching the host file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestSays, listMachineDirs, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const SECRET = 'HOST-SECRET-7f3a';
let sb: Sandbox;
let work: string;
const f = (name: string): string => path.join(work, name);
const qemuImg = (...args: string[]): void => void execFileSync('qemu-img', args, { stdio: 'pipe' });

/** Files of a machine folder, to show that a refused change left it as it was. */
function snapshotOf(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((p) => (fs.statSync(path.join(dir, p)).isFile() ? `${p}:${fs.readFileSync(path.join(dir, p), 'latin1')}` : p))
    .join('\n');
}

beforeAll(async () => {
  sb = makeSandbox();
  work = fs.mkdtempSync(path.join(sb.home, '..', 'vmdesk-hostile-'));
  // Stands for /etc/shadow or ~/.ssh/id_ed25519: a host file no guest may read.
  fs.writeFileSync(f('secret'), Buffer.concat([Buffer.from(`${SECRET}\n`), Buffer.alloc(1024 * 1024 - SECRET.length - 1)]));
  qemuImg('create', '-q', '-f', 'qcow2', '-b', f('secret'), '-F', 'raw', f('backing.qcow2'), '1M');
  const json = `json:${JSON.stringify({ driver: 'raw', file: { driver: 'file', filename: f('secret') } })}`;
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', json, '-F', 'raw', f('json.qcow2'), '1M');
  fs.writeFileSync(f('data.raw'), Buffer.alloc(1024 * 1024));
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${f('secret')},data_file_raw=on`, f('datafile.qcow2'), '1M');
  const descriptor = (extent: string, sectors = 2048): string =>
    [
      '# Disk DescriptorFile',
      'version=1',
      'CID=fffffffe',
      'parentCID=ffffffff',
      'createType="monolithicFlat"',
      `RW ${sectors} FLAT "${extent}" 0`,
      '',
    ].join('\n');
  fs.writeFileSync(f('extent.vmdk'), descriptor(f('secret')));
  fs.writeFileSync(f('huge-flat.vmdk'), Buffer.alloc(1024 * 1024));
  fs.writeFileSync(f('huge.vmdk'), descriptor('huge-flat.vmdk', 2 ** 51));
  execFileSync('mkfifo', [f('fifo')]);
  await ok(sb, ['create', 'holder', '--memory', '64', '--network', 'none']);
}, 60_000);

afterAll(async () => {
  await sb.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('images from outside', () => {
  const hostile: Array<[string, string, RegExp]> = [
    ['a qcow2 backed by a host file', 'backing.qcow2', /backing files: .*secret \(raw\).*--trust-backing/],
    ['a qcow2 with a json: backing name', 'json.qcow2', /json: description/],
    ['a qcow2 with an external data file', 'datafile.qcow2', /external file .*secret/],
    ['a vmdk whose extent is a host file', 'extent.vmdk', /reads its data from .*secret.*not a file beside it/],
    ['a vmdk that claims 1 EiB', 'huge.vmdk', /impossible size/],
    ['a FIFO', 'fifo', /FIFO/],
    ['/proc/self/environ', '/proc/self/environ', /procfs/],
    ['/dev/urandom', '/dev/urandom', /character device/],
  ];
  const paths: Array<[string, (image: string, i: number) => string[]]> = [
    ['create --import-disk', (image, i) => ['create', `imp${i}`, '--import-disk', image]],
    ['create --attach-disk', (image, i) => ['create', `att${i}`, '--attach-disk', image]],
    ['import', (image, i) => ['import', image, '--name', `imported${i}`]],
    ['disk add --file', (image) => ['disk', 'holder', 'add', '--file', image]],
  ];

  it.each(paths)('%s refuses every image that reaches outside itself, and leaves nothing behind', async (_what, argv) => {
    const holderDir = path.join(sb.home, 'machines', 'holder');
    const before = snapshotOf(holderDir);
    let i = 0;
    for (const [kind, image, why] of hostile) {
      const r = await vmdesk(sb, argv(path.isAbsolute(image) ? image : f(image), i++), { timeoutMs: 30_000 });
      expect({ kind, code: r.code, stderr: r.stderr }).toMatchObject({ kind, code: 2, stderr: expect.stringMatching(why) });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(listMachineDirs(sb)).toEqual(['holder']);
    expect(snapshotOf(holderDir)).toBe(before);
  });
  it('import refuses a file named like an appliance that is not one, rather than taking it for a disk', async () => {
    fs.writeFileSync(f('fake.ova'), 'hello\n');
    const r = await vmdesk(sb, ['import', f('fake.ova')]);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('is named .ova but is not an OVA') });
    expect(listMachineDirs(sb)).toEqual(['holder']);
  });
});

describe('a confirmed chain and a raw disk with a header inside', () => {
  it('uses a chain only with every file confirmed, and the booted guest reads through it', async () => {
    fs.writeFileSync(f('base.raw'), Buffer.concat([Buffer.from('CHAIN-BASE-MARKER\n'), Buffer.alloc(1024 * 1024 - 18)]));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', f('top.qcow2'));
    await ok(sb, ['create', 'chained', '--demo', '--memory', '128']);
    const refused = await vmdesk(sb, ['disk', 'chained', 'add', '--file', f('top.qcow2')]);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining(`--trust-backing ${f('base.raw')}`) });
    await ok(sb, ['disk', 'chained', 'add', '--file', f('top.qcow2'), '--trust-backing', f('base.raw')]);
    await ok(sb, ['start', 'chained']);
    await ok(sb, ['wait', 'chained', '--text', PROMPT, '--timeout', '120']);
    await guestSays(sb, 'chained', 'head -c 17 /dev/vdb; echo', 'CHAIN-BASE-MARKER', 60);
    await ok(sb, ['stop', 'chained', '--force']);
  });

  it('inspects an image kept elsewhere again at every start: a header changed to name a host file stops the start', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', f('shared.qcow2'), '16M');
    await ok(sb, ['create', 'attached', '--memory', '64', '--network', 'none', '--attach-disk', f('shared.qcow2')]);
    await ok(sb, ['start', 'attached']);
    await ok(sb, ['stop', 'attached', '--force']);
    // Someone who can write the shared image points it at the host's secret.
    qemuImg('rebase', '-u', '-f', 'qcow2', '-b', f('secret'), '-F', 'raw', f('shared.qcow2'));
    const r = await vmdesk(sb, ['start', 'attached']);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining(`--trust-backing ${f('secret')}`) });
    expect(JSON.parse(await ok(sb, ['show', 'attached', '--json']))).toMatchObject({ status: { state: 'stopped' } });
    await ok(sb, ['delete', 'attached']);
    expect(fs.existsSync(f('shared.qcow2'))).toBe(true);
  });

  it('keeps a raw disk raw when its guest writes a qcow2 header naming a host file into it', async () => {
    await ok(sb, ['create', 'rawguest', '--demo', '--memory', '128']);
    await ok(sb, ['disk', 'rawguest', 'add', '--size', '1M', '--format', 'raw']);
    await ok(sb, ['start', 'rawguest']);
    await ok(sb, ['wait', 'rawguest', '--text', PROMPT, '--timeout', '120']);
    // The guest writes, into its own raw disk, the bytes of a qcow2 image backed by the host's secret.
    const evil = gzipSync(fs.readFileSync(f('backing.qcow2'))).toString('base64');
    expect(evil.length).toBeLessThan(2000);
    await guestSays(sb, 'rawguest', `echo ${evil} | base64 -d | gunzip > /dev/vdb && sync && echo WROTE-$((6*7))`, 'WROTE-42', 60);
    await ok(sb, ['stop', 'rawguest', '--force']);
    const shown = JSON.parse(await ok(sb, ['show', 'rawguest', '--json'])) as { dir: string };
    const rawFile = path.join(shown.dir, 'disks', 'disk1.raw');
    // The hazard is real: probed, the file now reads as a qcow2 backed by the secret.
    expect(execFileSync('qemu-img', ['info', '-U', rawFile], { encoding: 'utf8' })).toContain(f('secret'));

    const media = JSON.parse(await ok(sb, ['media', '--json'])) as Array<{ file: string; format: string; backingChain: string[] }>;
    expect(media.find((m) => m.file === rawFile)).toMatchObject({ format: 'raw', backingChain: [] });
    expect(JSON.stringify(media)).not.toContain(f('secret'));

    await ok(sb, ['clone', 'rawguest', 'rawclone']);
    const clone = JSON.parse(await ok(sb, ['show', 'rawclone', '--json'])) as {
      dir: string;
      config: { disks: Array<{ id: string; file: string; format: string }> };
    };
    for (const disk of clone.config.disks) {
      const dump = f(`dump-${disk.id}`);
      qemuImg('convert', '-f', disk.format, '-O', 'raw', path.resolve(clone.dir, disk.file), dump);
      expect(fs.readFileSync(dump).includes(SECRET)).toBe(false);
    }
    expect(fs.readFileSync(f('dump-disk1')).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');

    await ok(sb, ['start', 'rawguest']);
    await ok(sb, ['wait', 'rawguest', '--text', PROMPT, '--timeout', '120']);
    // The guest sees its own bytes (the qcow2 magic it wrote), not the host's file.
    await guestSays(sb, 'rawguest', 'head -c 3 /dev/vdb; echo; grep -c HOST-SECRET /dev/vdb', /QFI\s+0/, 60);
    await ok(sb, ['stop', 'rawguest', '--force']);
  });
});
