import { describe, expect, it } from 'vitest';
import type { MediumInfo } from '../../src-main/api/storage';
import {
  defaultCloneName,
  formatBytes,
  hostPathError,
  looksLikeBlockDevice,
  mediaTree,
  mediumName,
  moveTargetError,
  newNameError,
  parseSize,
  sizeError,
  usersLabel,
} from './storage-input';

const medium = (file: string, backingFile: string | null = null, over: Partial<MediumInfo> = {}): MediumInfo => ({
  file,
  kind: 'disk',
  format: 'qcow2',
  virtualSize: 1024 ** 3,
  actualSize: 200_000,
  backingFile,
  backingChain: backingFile ? [backingFile] : [],
  users: [],
  ...over,
});

describe('sizes', () => {
  it('parses what people type', () => {
    expect(parseSize('20G')).toBe(20 * 1024 ** 3);
    expect(parseSize('512 MiB')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5T')).toBe(1.5 * 1024 ** 4);
    expect(parseSize('64')).toBe(64 * 1024 ** 3);
    expect(parseSize('4096b')).toBe(4096);
    expect(parseSize('')).toBeNull();
    expect(parseSize('big')).toBeNull();
    expect(parseSize('0G')).toBeNull();
    expect(parseSize('-1G')).toBeNull();
  });
  it('formats and checks them', () => {
    expect(formatBytes(64 * 1024 ** 2)).toBe('64 MiB');
    expect(formatBytes(1536 * 1024 ** 2)).toBe('1.5 GiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(sizeError('20G')).toBeNull();
    expect(sizeError('x')).toMatch(/20G/);
    expect(sizeError('100K')).toMatch(/At least 1 MiB/);
    expect(sizeError('100T')).toMatch(/64 TiB/);
  });
});

describe('names and paths', () => {
  it('checks host paths and new names', () => {
    expect(hostPathError('/tmp/a.ova')).toBeNull();
    expect(hostPathError('')).toMatch(/Type the path/);
    expect(hostPathError('a.ova')).toMatch(/absolute/);
    expect(newNameError('web 2', new Set(['web']))).toBeNull();
    expect(newNameError('web', new Set(['web']))).toMatch(/already exists/);
    expect(newNameError('a/b', new Set())).toMatch(/letters/);
    expect(defaultCloneName('web', new Set())).toBe('web Clone');
    expect(defaultCloneName('web', new Set(['web Clone', 'web Clone 2']))).toBe('web Clone 3');
  });
  it('refuses to move a machine into its own folder', () => {
    const dir = '/home/u/.local/share/vmdesk/machines/web';
    expect(moveTargetError('/mnt/big', dir)).toBeNull();
    expect(moveTargetError(dir, dir)).toMatch(/own folder/);
    expect(moveTargetError(`${dir}/sub`, dir)).toMatch(/own folder/);
    expect(moveTargetError('/home/u/.local/share/vmdesk/machines/', dir)).toMatch(/already/);
    expect(moveTargetError('rel', dir)).toMatch(/absolute/);
  });
  it('recognises block devices', () => {
    expect(looksLikeBlockDevice('/dev/sdb')).toBe(true);
    expect(looksLikeBlockDevice('/tmp/disk.raw')).toBe(false);
  });
});

describe('media tree', () => {
  it('nests each image under its backing file', () => {
    const rows = mediaTree([
      medium('/m/b/disk0.qcow2', '/m/a/snap.qcow2'),
      medium('/m/a/snap.qcow2', '/m/a/disk0.qcow2'),
      medium('/m/a/disk0.qcow2'),
      medium('/isos/x.iso', null, { kind: 'iso', format: 'raw' }),
      medium('/m/c/orphan.qcow2', '/gone/base.qcow2'),
    ]);
    expect(rows.map((r) => r.name)).toEqual(['x.iso', 'disk0.qcow2', 'orphan.qcow2']);
    expect(rows[1]!.children[0]!.file).toBe('/m/a/snap.qcow2');
    expect(rows[1]!.children[0]!.children[0]!.file).toBe('/m/b/disk0.qcow2');
  });
  it('names images by their place in the library', () => {
    expect(mediumName('/home/u/.local/share/vmdesk/machines/web/disks/disk0.qcow2')).toBe('web/disks/disk0.qcow2');
    expect(mediumName('/isos/debian.iso')).toBe('debian.iso');
  });
  it('says who uses an image', () => {
    expect(usersLabel(medium('/a'))).toBe('Not attached');
    expect(
      usersLabel(
        medium('/a', null, {
          users: [
            { uuid: 'u', name: 'web', device: 'disk0', use: 'disk' },
            { uuid: 'v', name: 'web 2', device: 'disk0', use: 'backing' },
            { uuid: 'u', name: 'web', device: 'disk0', use: 'snapshot', snapshot: 'S1' },
          ],
        }),
      ),
    ).toBe('web (disk0), web 2 (base of disk0), web (snapshot S1)');
  });
});
