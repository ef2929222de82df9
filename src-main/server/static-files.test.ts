import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRendererDir, mimeType, rendererIsBuilt, resolveStaticFile } from './static-files.js';

let base: string;
let root: string;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-static-'));
  root = path.join(base, 'renderer');
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
  fs.writeFileSync(path.join(root, 'assets', 'app 1.js'), '1');
  fs.writeFileSync(path.join(base, 'secret.txt'), 'secret');
  fs.mkdirSync(path.join(base, 'renderer-evil'));
  fs.writeFileSync(path.join(base, 'renderer-evil', 'x.js'), 'x');
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'link.txt'));
  fs.symlinkSync(base, path.join(root, 'up'));
  fs.symlinkSync(path.join(root, 'index.html'), path.join(root, 'inside.html'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('resolveStaticFile', () => {
  it('maps / to index.html and paths to files under the root', async () => {
    expect(await resolveStaticFile(root, '/')).toBe(path.join(fs.realpathSync(root), 'index.html'));
    expect(await resolveStaticFile(root, '/assets/app%201.js')).toBe(path.join(fs.realpathSync(root), 'assets', 'app 1.js'));
    expect(await resolveStaticFile(root, '/inside.html')).toBe(path.join(fs.realpathSync(root), 'index.html'));
  });

  it('refuses every way out of the root', async () => {
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/assets\\..\\..\\secret.txt',
      '/../renderer-evil/x.js',
      '/link.txt',
      '/up/secret.txt',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
    ]) {
      expect(await resolveStaticFile(root, p), p).toBeNull();
    }
  });

  it('refuses NUL, undecodable paths, folders and missing files', async () => {
    for (const p of ['/index.html%00.js', '/%E0%A4%A', '/%', '/assets', '/assets/', '/nope.js', 'index.html']) {
      expect(await resolveStaticFile(root, p), p).toBeNull();
    }
  });

  it('finds nothing when the renderer is not built', async () => {
    expect(await resolveStaticFile(path.join(base, 'missing'), '/')).toBeNull();
    expect(rendererIsBuilt(path.join(base, 'missing'))).toBe(false);
    expect(rendererIsBuilt(root)).toBe(true);
  });
});

describe('mimeType and findRendererDir', () => {
  it('types the files Vite emits, and nothing else as executable', () => {
    expect(mimeType('a/index.html')).toBe('text/html; charset=utf-8');
    expect(mimeType('a/x.JS')).toBe('text/javascript; charset=utf-8');
    expect(mimeType('a/x.woff2')).toBe('font/woff2');
    expect(mimeType('a/x.exe')).toBe('application/octet-stream');
    expect(mimeType('a/noext')).toBe('application/octet-stream');
  });

  it('finds dist/renderer next to package.json', () => {
    const repo = path.resolve(import.meta.dirname, '..', '..');
    expect(findRendererDir(import.meta.dirname)).toBe(path.join(repo, 'dist', 'renderer'));
    expect(findRendererDir(path.join(repo, 'dist', 'bundle'))).toBe(path.join(repo, 'dist', 'renderer'));
  });
});
