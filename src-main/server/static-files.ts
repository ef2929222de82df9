/**
 * The built renderer (dist/renderer) as static files. A request path maps to a file only when,
 * decoded and resolved (symlinks included), it stays inside the renderer folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

export function mimeType(file: string): string {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export function rendererIsBuilt(rendererDir: string): boolean {
  return fs.existsSync(path.join(rendererDir, 'index.html'));
}

/**
 * The file a URL path names inside `root`, or null. Refuses undecodable paths, NUL, backslashes and
 * any `..` segment (also when percent-encoded), then checks the real path is still under the root.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((segment) => segment === '..')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  const realRoot = await fs.promises.realpath(root).catch(() => null);
  if (!realRoot) return null;
  const candidate = path.resolve(realRoot, relative);
  if (!candidate.startsWith(realRoot + path.sep)) return null;
  const real = await fs.promises.realpath(candidate).catch(() => null);
  if (!real || !real.startsWith(realRoot + path.sep)) return null;
  const stat = await fs.promises.stat(real).catch(() => null);
  return stat?.isFile() ? real : null;
}

/**
 * dist/renderer of this VMDesk install: found by walking up from this module to the folder holding
 * package.json (this module runs from src-main, dist/main or the dist/bundle CLI bundle).
 */
export function findRendererDir(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'renderer');
  }
  return path.resolve('dist', 'renderer');
}
