import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { macSchema } from '../../api/machine-config.js';
import { requireHostFile } from '../fs/host-file.js';
import { generateMac, requireIsoImage } from './media.js';

describe('media checks', () => {
  it('rejects a missing file and a non-ISO file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-media-'));
    await expect(requireHostFile(path.join(dir, 'nope.iso'), 'ISO image')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const fake = path.join(dir, 'fake.iso');
    await fs.writeFile(fake, Buffer.alloc(40000));
    await expect(requireIsoImage(fake)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('not an ISO') });
    const real = path.join(dir, 'real.iso');
    const buf = Buffer.alloc(40000);
    buf.write('CD001', 32769, 'latin1');
    await fs.writeFile(real, buf);
    await expect(requireIsoImage(real)).resolves.toBeUndefined();
    // Kernel windows that stat as regular files are not ISOs either.
    await expect(requireIsoImage('/proc/self/mem')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('procfs'),
    });
    await expect(requireHostFile(dir, 'disk image')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await fs.rm(dir, { recursive: true });
  });

  it('generates valid unicast MACs that avoid the taken ones', () => {
    const values = [0, 0, 0, 0.5, 0.5, 0.5];
    let i = 0;
    const taken = new Set(['52:54:00:00:00:00']);
    const mac = generateMac(taken, () => values[i++ % values.length] ?? 0);
    expect(mac).toBe('52:54:00:80:80:80');
    expect(macSchema.safeParse(mac).success).toBe(true);
  });
});
