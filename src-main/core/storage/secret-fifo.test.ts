import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { feedSecret, makeSecretFifo, secretObject, withSecretFifo } from './secret-fifo.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-fifo-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What a reader process (cat, as QEMU reads its secret file: open by name, read to the end) gets. */
function readByName(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`cat exited ${String(code)}`))));
  });
}

describe('secret FIFO', () => {
  it('gives the secret to the process that opens it by name, then its name is gone; only its user may open it', async () => {
    const file = path.join(dir, 'key.fifo');
    makeSecretFifo(file);
    const stat = fs.statSync(file);
    expect(stat.isFIFO()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    const [read] = await Promise.all([readByName(file), feedSecret(file, 'pass, with a comma', () => false)]);
    expect(read).toBe('pass, with a comma');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('gives up (and removes the FIFO) when the reader is gone before opening it', async () => {
    const file = path.join(dir, 'key.fifo');
    makeSecretFifo(file);
    const started = Date.now();
    await feedSecret(file, 'never read', () => Date.now() - started > 50);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('withSecretFifo: the FIFO and its private folder are gone once the use settles, failed or not', async () => {
    let seen = '';
    const read = await withSecretFifo('s3cret', async (file) => {
      seen = file;
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      return readByName(file);
    });
    expect(read).toBe('s3cret');
    expect(fs.existsSync(path.dirname(seen))).toBe(false);
    await expect(withSecretFifo('s3cret', () => Promise.reject(new Error('reader failed')))).rejects.toThrow('reader failed');
  });

  it('secretObject doubles commas in the FIFO name (QEMU option syntax)', () => {
    expect(secretObject('/run/a,b/secret.fifo')).toBe('secret,id=vmdesk-key,file=/run/a,,b/secret.fifo');
  });
});
