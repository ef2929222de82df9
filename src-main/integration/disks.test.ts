// Disks and media through the real CLI on the demo guest: CD change and eject seen live by the guest,
// live resize seen in /sys/block/vda/size, a disk added while running appears at the next start, a
// machine without a CD drive gets one at its next start; offline resize, shrink refusal, removal,
// the media list, and bad input.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

function makeIso(name: string, text: string): string {
  const dir = path.join(sb.home, `${name}-content`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'hello.txt'), `${text}\n`);
  const iso = path.join(sb.home, `${name}.iso`);
  const r = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', name.toUpperCase(), '-o', iso, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xorriso failed: ${r.stderr}`);
  return iso;
}

/** Type a command line and wait for `expect` in what the guest prints afterwards. */
async function guest(name: string, line: string, expectText: string, timeout = 60): Promise<void> {
  await guestSays(sb, name, line, expectText, timeout);
}

interface Shown {
  uuid: string;
  dir: string;
  config: { cdrom: { file: string | null } | null; disks: Array<{ id: string; file: string; format: string }> };
}
async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}

async function boot(name: string): Promise<void> {
  await ok(sb, ['start', name]);
  await ok(sb, ['wait', name, '--text', PROMPT, '--timeout', '120']);
}

let isoOne: string;
let isoTwo: string;

beforeAll(async () => {
  sb = makeSandbox();
  isoOne = makeIso('one', 'cd-marker-one');
  isoTwo = makeIso('two', 'cd-marker-two');
  await ok(sb, ['create', 'dk', '--demo']);
});
afterAll(async () => {
  await sb.cleanup();
});

describe('CD-ROM and disks of a running machine', () => {
  it('boots the demo guest', async () => {
    await boot('dk');
  });

  it('inserts an ISO live: the guest mounts it and reads its file', async () => {
    expect(await ok(sb, ['cdrom', 'dk', 'insert', isoOne])).toMatch(/Inserted .*one\.iso into dk \(live\)/);
    await guest('dk', 'mount -t iso9660 /dev/sr0 /mnt && cat /mnt/hello.txt; umount /mnt', 'cd-marker-one');
    expect((await show('dk')).config.cdrom?.file).toBe(isoOne);
  });

  it('changes the ISO live while the guest has used the drive: the guest reads the new one', async () => {
    await ok(sb, ['cdrom', 'dk', 'insert', isoTwo]);
    await guest('dk', 'mount -t iso9660 /dev/sr0 /mnt && cat /mnt/hello.txt; umount /mnt', 'cd-marker-two');
  });

  it('ejects live: the guest finds no medium', async () => {
    expect(await ok(sb, ['cdrom', 'dk', 'eject'])).toContain('(live)');
    await guest('dk', 'mount -t iso9660 /dev/sr0 /mnt 2>/dev/null || echo no-medium-$((6*7))', 'no-medium-42');
    expect((await show('dk')).config.cdrom).toEqual({ file: null });
  });

  it('refuses a file that is not an ISO, and leaves the drive as it was', async () => {
    const notIso = path.join(sb.home, 'not.iso');
    fs.writeFileSync(notIso, 'hello');
    const r = await vmdesk(sb, ['cdrom', 'dk', 'insert', notIso]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not an ISO 9660 image');
    expect((await show('dk')).config.cdrom).toEqual({ file: null });
  });

  it('grows disk0 live: the guest sees the new size in /sys/block/vda/size', async () => {
    await guest('dk', 'echo sectors=$(cat /sys/block/vda/size)', 'sectors=524288');
    expect(await ok(sb, ['disk', 'dk', 'resize', 'disk0', '384M'])).toContain('to 384.0 MiB (live)');
    await guest('dk', 'echo sectors=$(cat /sys/block/vda/size)', 'sectors=786432');
  });

  it('refuses to shrink a disk of a running machine', async () => {
    const r = await vmdesk(sb, ['disk', 'dk', 'resize', 'disk0', '128M', '--force-shrink']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('Shrinking a disk of a running machine is not possible');
  });

  it('adds a disk while running: it appears at the next start', async () => {
    const r = await vmdesk(sb, ['disk', 'dk', 'add', '--size', '64M']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Added disk1');
    expect(r.stderr).toContain('appears at its next start');
    const removeRunning = await vmdesk(sb, ['disk', 'dk', 'remove', 'disk1']);
    expect(removeRunning.code).toBe(5);
    await ok(sb, ['stop', 'dk', '--force']);
    await boot('dk');
    await guest('dk', 'echo vdb=$(cat /sys/block/vdb/size)', 'vdb=131072');
    await ok(sb, ['stop', 'dk', '--force']);
  });

  it('gives a machine created without a CD drive one at its next start, with the ISO inserted', async () => {
    const { dir } = await show('dk');
    const configFile = path.join(dir, 'machine.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { cdrom: unknown };
    config.cdrom = null;
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    await boot('dk');
    await guest('dk', 'ls /dev/sr0 2>/dev/null || echo no-drive-$((6*7))', 'no-drive-42');
    const r = await vmdesk(sb, ['cdrom', 'dk', 'insert', isoOne]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('gets one at its next start');
    await ok(sb, ['stop', 'dk', '--force']);
    await boot('dk');
    await guest('dk', 'mount -t iso9660 /dev/sr0 /mnt && cat /mnt/hello.txt; umount /mnt', 'cd-marker-one');
    await ok(sb, ['stop', 'dk', '--force']);
  });
});

describe('disks of a stopped machine', () => {
  it('grows offline; refuses to shrink without --force-shrink; shrinks with it and warns', async () => {
    await ok(sb, ['disk', 'dk', 'resize', 'disk1', '96M']);
    const { dir, config } = await show('dk');
    const file = path.join(dir, config.disks.find((d) => d.id === 'disk1')?.file ?? '');
    const info = (): number =>
      (JSON.parse(spawnSync('qemu-img', ['info', '--output=json', file], { encoding: 'utf8' }).stdout) as { 'virtual-size': number })[
        'virtual-size'
      ];
    expect(info()).toBe(96 * 1024 * 1024);
    const refused = await vmdesk(sb, ['disk', 'dk', 'resize', 'disk1', '32M']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force-shrink');
    expect(info()).toBe(96 * 1024 * 1024);
    const forced = await vmdesk(sb, ['disk', 'dk', 'resize', 'disk1', '32M', '--force-shrink']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('was shrunk');
    expect(info()).toBe(32 * 1024 * 1024);
  });

  it('adds a raw disk and an existing image; refuses an image another machine uses', async () => {
    expect(await ok(sb, ['disk', 'dk', 'add', '--size', '16M', '--format', 'raw'])).toContain('Added disk2');
    const { dir, config } = await show('dk');
    expect(config.disks.find((d) => d.id === 'disk2')).toMatchObject({ format: 'raw', file: 'disks/disk2.raw' });
    expect(fs.statSync(path.join(dir, 'disks', 'disk2.raw')).size).toBe(16 * 1024 * 1024);

    const spare = path.join(sb.home, 'spare.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', spare, '8M']);
    expect(await ok(sb, ['disk', 'dk', 'add', '--file', spare])).toContain('Added disk3');
    await ok(sb, ['create', 'other', '--network', 'none']);
    const taken = await vmdesk(sb, ['disk', 'other', 'add', '--file', spare]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('already used by dk');
    const own = await vmdesk(sb, ['disk', 'other', 'add', '--file', path.join(dir, 'disks', 'disk0.qcow2')]);
    expect(own.code).toBe(2);
  });

  it('lists every image with format, sizes and users, and the ISO in the drive', async () => {
    const media = JSON.parse(await ok(sb, ['media', '--json'])) as Array<{
      file: string;
      kind: string;
      format: string;
      virtualSize: number;
      users: Array<{ name: string; device: string; use: string }>;
    }>;
    const { dir } = await show('dk');
    const disk0 = media.find((m) => m.file === path.join(dir, 'disks', 'disk0.qcow2'));
    expect(disk0).toMatchObject({ kind: 'disk', format: 'qcow2', virtualSize: 384 * 1024 * 1024 });
    expect(disk0?.users).toEqual([{ uuid: expect.any(String) as string, name: 'dk', device: 'disk0', use: 'disk' }]);
    expect(media.find((m) => m.file.endsWith('disk2.raw'))).toMatchObject({ format: 'raw' });
    expect(media.find((m) => m.file === isoOne)).toMatchObject({ kind: 'iso', users: [{ name: 'dk', device: 'cdrom', use: 'cdrom' }] });
    expect(await ok(sb, ['media'])).toMatch(/disk0\.qcow2\s+qcow2\s+384\.0 MiB/);
  });

  it('removes a disk keeping its file, and one deleting it; never deletes a file outside the folder', async () => {
    const { dir } = await show('dk');
    const outside = await vmdesk(sb, ['disk', 'dk', 'remove', 'disk3', '--delete-file']);
    expect(outside.code).toBe(2);
    expect(fs.existsSync(path.join(sb.home, 'spare.qcow2'))).toBe(true);
    expect(await ok(sb, ['disk', 'dk', 'remove', 'disk3'])).toContain('Removed disk3');
    expect(fs.existsSync(path.join(sb.home, 'spare.qcow2'))).toBe(true);
    expect(await ok(sb, ['disk', 'dk', 'remove', 'disk2', '--delete-file'])).toContain('deleted');
    expect(fs.existsSync(path.join(dir, 'disks', 'disk2.raw'))).toBe(false);
    expect((await show('dk')).config.disks.map((d) => d.id)).toEqual(['disk0', 'disk1']);
  });

  it('answers bad input with clear errors', async () => {
    const missing = await vmdesk(sb, ['disk', 'dk', 'resize', 'disk7', '1G']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('dk has no disk "disk7" (its disks: disk0, disk1)');
    const badSize = await vmdesk(sb, ['disk', 'dk', 'add', '--size', 'lots']);
    expect(badSize.code).toBe(2);
    const both = await vmdesk(sb, ['disk', 'dk', 'add', '--size', '1G', '--file', '/etc/hostname']);
    expect(both.code).toBe(2);
    const verb = await vmdesk(sb, ['disk', 'dk', 'grow', 'disk0']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('Unknown disk action "grow"');
    const misplaced = await vmdesk(sb, ['disk', 'dk', 'remove', 'disk1', '--force-shrink']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--force-shrink does not go with remove');
    const noFile = await vmdesk(sb, ['disk', 'dk', 'add', '--file', path.join(sb.home, 'nope.qcow2')]);
    expect(noFile.code).toBe(3);
    expect((await show('dk')).config.disks.map((d) => d.id)).toEqual(['disk0', 'disk1']);
  });
});
