// Hostile images made with the real qemu-img (and a few bytes patched by hand), inspected for real.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectForeignImage } from './foreign-image.js';

const MiB = 1024 * 1024;
let dir: string;
const f = (name: string): string => path.join(dir, name);
const qemuImg = (...args: string[]): void => void execFileSync('qemu-img', args, { stdio: 'pipe' });
const inspect = (file: string, trustedBacking: string[] = []): ReturnType<typeof inspectForeignImage> =>
  inspectForeignImage(f(file), { what: 'disk image', trustedBacking });
const refused = (message: RegExp | string): Record<string, unknown> => ({
  code: 'INVALID_INPUT',
  message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message),
});

async function patch(file: string, offset: number, bytes: Buffer): Promise<void> {
  const h = await fs.open(f(file), 'r+');
  await h.write(bytes, 0, bytes.length, offset);
  await h.close();
}

async function descriptor(name: string, extentLines: string[], extra = ''): Promise<void> {
  const text = [
    '# Disk DescriptorFile',
    'version=1',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="monolithicFlat"',
    extra,
    '# Extent description',
    ...extentLines,
    'ddb.virtualHWVersion = "4"',
    '',
  ];
  await fs.writeFile(f(name), text.join('\n'));
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-foreign-'));
  await fs.writeFile(f('secret'), Buffer.concat([Buffer.from('HOST-SECRET\n'), Buffer.alloc(MiB - 12)]));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('images that point at host files', () => {
  it('refuses a qcow2 whose backing file is a host file, naming it and what to confirm', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', '-b', f('secret'), '-F', 'raw', f('backed.qcow2'), '1M');
    await expect(inspect('backed.qcow2')).rejects.toMatchObject({
      ...refused(`--trust-backing ${f('secret')}`),
      details: { reason: 'untrusted-backing', chain: [{ file: f('secret'), format: 'raw' }], untrusted: [f('secret')] },
    });
    // Relative names resolve beside the image, as QEMU reads them.
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '../../../../../../../../etc/passwd', '-F', 'raw', f('relative.qcow2'), '1M');
    await expect(inspect('relative.qcow2')).rejects.toMatchObject(refused('/etc/passwd'));
  });

  it('refuses json: and protocol backing names even when "confirmed"', async () => {
    const json = `json:${JSON.stringify({ driver: 'raw', file: { driver: 'file', filename: f('secret') } })}`;
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', json, '-F', 'raw', f('json.qcow2'), '1M');
    await expect(inspect('json.qcow2', [json, f('secret')])).rejects.toMatchObject(refused('json:'));
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'nbd://127.0.0.1:10809/x', '-F', 'raw', f('nbd.qcow2'), '1M');
    await expect(inspect('nbd.qcow2')).rejects.toMatchObject(refused('protocol'));
  });

  it('refuses a backing file whose format QEMU would have to probe', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', f('base-noformat.qcow2'), '1M');
    // qemu-img no longer writes such images: name the backing file in the header by hand, as old ones did.
    qemuImg('create', '-q', '-f', 'qcow2', f('noformat.qcow2'), '1M');
    const name = Buffer.from(f('base-noformat.qcow2'));
    const field = Buffer.alloc(12);
    field.writeBigUInt64BE(4096n, 0);
    field.writeUInt32BE(name.length, 8);
    await patch('noformat.qcow2', 8, field);
    await patch('noformat.qcow2', 4096, name);
    await expect(inspect('noformat.qcow2', [f('base-noformat.qcow2')])).rejects.toMatchObject(refused('qemu-img rebase -u -F'));
  });

  it('refuses an external data file', async () => {
    await fs.writeFile(f('data.raw'), Buffer.alloc(MiB));
    qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${f('data.raw')},data_file_raw=on`, f('datafile.qcow2'), '1M');
    await expect(inspect('datafile.qcow2')).rejects.toMatchObject(refused('external file'));
  });

  it('refuses vmdk extents outside their folder, symbolic links and other descriptors', async () => {
    await descriptor('abs.vmdk', [`RW 2048 FLAT "${f('secret')}" 0`]);
    await expect(inspect('abs.vmdk')).rejects.toMatchObject(refused('not a file beside it'));
    await fs.mkdir(f('sub'));
    await fs.copyFile(f('secret'), f('sub/x'));
    await descriptor('sub/up.vmdk', ['RW 2048 FLAT "../secret" 0']);
    await expect(inspect('sub/up.vmdk')).rejects.toMatchObject(refused('not a file beside it'));
    await fs.symlink(f('secret'), f('link-flat.vmdk'));
    await descriptor('link.vmdk', ['RW 2048 FLAT "link-flat.vmdk" 0']);
    await expect(inspect('link.vmdk')).rejects.toMatchObject(refused('symbolic link'));
    await descriptor('nested.vmdk', ['RW 2048 SPARSE "abs.vmdk"']);
    await expect(inspect('nested.vmdk')).rejects.toMatchObject(refused('another descriptor'));
    await descriptor('odd.vmdk', ['RW 2048 FLAT "plain-flat.vmdk" 0', `RW  2048 FLAT  "${f('secret')}"junk`]);
    await expect(inspect('odd.vmdk')).rejects.toMatchObject(refused('cannot read'));
    await fs.writeFile(f('plain-flat.vmdk'), Buffer.alloc(MiB));
    await descriptor('not-sparse.vmdk', ['RW 2048 SPARSE "plain-flat.vmdk"']);
    await expect(inspect('not-sparse.vmdk')).rejects.toMatchObject(refused('not a sparse vmdk'));
    await descriptor('cowd.vmdk', ['RW 2048 VMFSSPARSE "plain-flat.vmdk"']);
    await expect(inspect('cowd.vmdk')).rejects.toMatchObject(refused('VMFSSPARSE'));
    await descriptor('parent.vmdk', ['RW 2048 FLAT "plain-flat.vmdk" 0'], `parentFileNameHint="${f('secret')}"`);
    await expect(inspect('parent.vmdk')).rejects.toMatchObject(refused('parent'));
  });

  it('accepts a flat vmdk whose extent lies beside it, and lists the extent', async () => {
    await fs.writeFile(f('plain-flat.vmdk'), Buffer.alloc(MiB));
    await descriptor('plain.vmdk', ['RW 2048 FLAT "plain-flat.vmdk" 0']);
    await expect(inspect('plain.vmdk')).resolves.toMatchObject({
      format: 'vmdk',
      virtualSize: MiB,
      extents: [f('plain-flat.vmdk')],
      backing: [],
    });
  });

  it('refuses a sparse vmdk that defers to its embedded descriptor (capacity 0)', async () => {
    qemuImg('create', '-q', '-f', 'vmdk', f('sparse.vmdk'), '1M');
    await expect(inspect('sparse.vmdk')).resolves.toMatchObject({ format: 'vmdk', virtualSize: MiB, extents: [] });
    await fs.copyFile(f('sparse.vmdk'), f('deferred.vmdk'));
    await patch('deferred.vmdk', 12, Buffer.alloc(8));
    await expect(inspect('deferred.vmdk')).rejects.toMatchObject(refused('descriptor naming other files'));
  });

  it('refuses images that claim an impossible size (1 EiB)', async () => {
    await descriptor('huge.vmdk', ['RW 2251799813685248 FLAT "plain-flat.vmdk" 0']);
    await expect(inspect('huge.vmdk')).rejects.toMatchObject(refused('impossible size'));
    qemuImg('create', '-q', '-f', 'qcow2', f('huge.qcow2'), '1M');
    await patch('huge.qcow2', 24, Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0]));
    await expect(inspect('huge.qcow2')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses differencing vdi and vhd images, and formats VMDesk does not use', async () => {
    qemuImg('create', '-q', '-f', 'vdi', f('diff.vdi'), '1M');
    await expect(inspect('diff.vdi')).resolves.toMatchObject({ format: 'vdi' });
    await patch('diff.vdi', 76, Buffer.from([4, 0, 0, 0]));
    await expect(inspect('diff.vdi')).rejects.toMatchObject(refused('differencing'));
    qemuImg('create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', f('diff.vhd'), '1M');
    await expect(inspect('diff.vhd')).resolves.toMatchObject({ format: 'vpc' });
    const size = (await fs.stat(f('diff.vhd'))).size;
    await patch('diff.vhd', size - 512 + 60, Buffer.from([0, 0, 0, 4]));
    await expect(inspect('diff.vhd')).rejects.toMatchObject(refused('differencing'));
    qemuImg('create', '-q', '-f', 'qed', f('x.qed'), '1M');
    await expect(inspect('x.qed')).rejects.toMatchObject(refused('QED'));
    // crypt_method 2 (LUKS), patched in: making a real LUKS qcow2 costs seconds of key stretching.
    qemuImg('create', '-q', '-f', 'qcow2', f('luks.qcow2'), '1M');
    await patch('luks.qcow2', 32, Buffer.from([0, 0, 0, 2]));
    await expect(inspect('luks.qcow2')).rejects.toMatchObject(refused('encrypted'));
  });

  it('reads the format from the magic, never from the name, and never lets qemu-img probe', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', f('looks-raw.img'), '1M');
    await expect(inspect('looks-raw.img')).resolves.toMatchObject({ format: 'qcow2' });
    await fs.writeFile(f('tiny.img'), 'hello\n');
    await expect(inspect('tiny.img')).rejects.toMatchObject(refused('too small to be a disk image'));
    await fs.writeFile(f('data.qcow2'), Buffer.alloc(MiB, 7));
    await expect(inspect('data.qcow2')).resolves.toMatchObject({ format: 'raw', virtualSize: MiB });
  });

  it('accepts a chain only when every file of it is confirmed, and refuses loops', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', f('base.qcow2'), '1M');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', f('mid.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', f('top.qcow2'));
    await expect(inspect('top.qcow2')).rejects.toMatchObject({
      details: { chain: [{ file: f('mid.qcow2') }, { file: f('base.qcow2') }], untrusted: [f('mid.qcow2'), f('base.qcow2')] },
    });
    await expect(inspect('top.qcow2', [f('mid.qcow2')])).rejects.toMatchObject({ details: { untrusted: [f('base.qcow2')] } });
    await expect(inspect('top.qcow2', [f('mid.qcow2'), f('base.qcow2')])).resolves.toMatchObject({
      format: 'qcow2',
      backing: [
        { file: f('mid.qcow2'), format: 'qcow2' },
        { file: f('base.qcow2'), format: 'qcow2' },
      ],
    });
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'loop-b.qcow2', '-F', 'qcow2', f('loop-a.qcow2'), '1M');
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'loop-a.qcow2', '-F', 'qcow2', f('loop-b.qcow2'), '1M');
    await expect(inspect('loop-a.qcow2', [f('loop-a.qcow2'), f('loop-b.qcow2')])).rejects.toMatchObject(refused('loops'));
  });

  it('refuses a backing file that is a kernel file or a device, confirmed or not', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '/proc/self/environ', '-F', 'raw', f('proc.qcow2'), '1M');
    await expect(inspect('proc.qcow2', ['/proc/self/environ'])).rejects.toMatchObject(refused('procfs'));
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', '/dev/zero', '-F', 'raw', f('dev.qcow2'), '1M');
    await expect(inspect('dev.qcow2', ['/dev/zero'])).rejects.toMatchObject(refused('character device'));
  });
});
