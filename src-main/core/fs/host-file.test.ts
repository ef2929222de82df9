import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireHostFile } from './host-file.js';

describe('requireHostFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-hostfile-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('accepts a regular file, through a symbolic link too, and names the real file', async () => {
    const file = path.join(dir, 'disk.img');
    await fs.writeFile(file, Buffer.alloc(4096));
    await fs.symlink(file, path.join(dir, 'link.img'));
    await expect(requireHostFile(file, 'disk image')).resolves.toMatchObject({ path: file, blockDevice: false });
    await expect(requireHostFile(path.join(dir, 'link.img'), 'disk image')).resolves.toMatchObject({ path: file });
  });

  it.each([
    ['/dev/urandom', /character device/],
    ['/dev/null', /character device/],
    ['/proc/self/mem', /procfs/],
    ['/proc/self/environ', /procfs/],
    ['/sys/kernel/mm/transparent_hugepage/enabled', /sysfs/],
    ['/', /folder/],
  ])('refuses %s', async (file, why) => {
    await expect(requireHostFile(file, 'disk image')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(why) });
  });

  it('refuses a FIFO and a socket without opening them (a FIFO would block)', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(requireHostFile(fifo, 'disk image')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('FIFO'),
    });
    const sock = path.join(dir, 's.sock');
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.once('listening', r));
    await expect(requireHostFile(sock, 'disk image')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('socket'),
    });
    server.close();
  });

  it('refuses a symbolic link into /proc, and a missing file as NOT_FOUND', async () => {
    await fs.symlink('/proc/self/environ', path.join(dir, 'innocent.qcow2'));
    await expect(requireHostFile(path.join(dir, 'innocent.qcow2'), 'disk image')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(requireHostFile(path.join(dir, 'missing'), 'disk image')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('takes a block device only where one is meant', async () => {
    const block = (await fs.readdir('/dev')).map((d) => `/dev/${d}`).find((d) => /^\/dev\/(loop\d+|[sv]d[a-z]|nvme\d+n\d+)$/.test(d));
    if (!block) throw new Error('this host has no block device node in /dev to test with');
    await expect(requireHostFile(block, 'disk image')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('P2V'),
    });
    const st = await fs.stat(block);
    if (st.isBlockDevice()) await expect(requireHostFile(block, 'P2V source', 'allow')).resolves.toMatchObject({ blockDevice: true });
  });
});
