/** Whether a path lies inside a folder, by their absolute names (no file system access). */
import path from 'node:path';

/** `file` is strictly inside `dir`. */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** `child` is `parent` or inside it. */
export function isInsideOrSame(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
