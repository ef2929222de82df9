import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeJsonAtomic } from './atomic-file.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('writeJsonAtomic', () => {
  it('two writes of one file in the same millisecond both land (an agent publishing quick state changes)', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    const file = path.join(dir, 'state.json');
    await Promise.all([writeJsonAtomic(file, { n: 1 }), writeJsonAtomic(file, { n: 2 }), writeJsonAtomic(file, { n: 3 })]);
    expect([1, 2, 3]).toContain((JSON.parse(fs.readFileSync(file, 'utf8')) as { n: number }).n);
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('keeps the previous version as the backup, a file of its own', async () => {
    const file = path.join(dir, 'machine.json');
    const backup = `${file}.bak`;
    await writeJsonAtomic(file, { v: 1 }, backup);
    expect(fs.existsSync(backup)).toBe(false);
    await writeJsonAtomic(file, { v: 2 }, backup);
    await writeJsonAtomic(file, { v: 3 }, backup);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ v: 3 });
    expect(JSON.parse(fs.readFileSync(backup, 'utf8'))).toEqual({ v: 2 });
    expect(fs.statSync(backup).ino).not.toBe(fs.statSync(file).ino);
    expect(fs.readdirSync(dir).sort()).toEqual(['machine.json', 'machine.json.bak']);
  });

  it('a write that fails (ENOSPC) leaves the file as it was and no temp file; a backup it cannot make either', async () => {
    const file = path.join(dir, 'machine.json');
    await writeJsonAtomic(file, { v: 1 });
    const open = fsp.open.bind(fsp);
    const spy = vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await open(...args);
      handle.writeFile = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
      return handle;
    });
    await expect(writeJsonAtomic(file, { v: 2 })).rejects.toMatchObject({ code: 'ENOSPC' });
    spy.mockRestore();
    fs.mkdirSync(path.join(dir, 'machine.json.bak'));
    await expect(writeJsonAtomic(file, { v: 2 }, path.join(dir, 'machine.json.bak'))).rejects.toThrow();
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ v: 1 });
    expect(fs.readdirSync(dir).sort()).toEqual(['machine.json', 'machine.json.bak']);
  });
});
