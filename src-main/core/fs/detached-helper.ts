/**
 * Starting a detached VMDesk helper (the host memory policy, the snapshot scheduler): its program is
 * the bundle of the package this module belongs to, run by this Node with its output appended to its
 * log, in its own session so it outlives whoever started it. Two cores may start one at once: the
 * second finds the first's lock and exits with `alreadyRunningExit`, which is not a failure.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmdeskError } from '../../api/errors.js';

/** bin/<launcher> of this package, once dist/bundle/<bundle> is built. */
export function helperEntry(bundle: string, launcher: string, what: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      if (fs.existsSync(path.join(dir, 'dist', 'bundle', bundle))) return path.join(dir, 'bin', launcher);
      break;
    }
  }
  throw new VmdeskError('INTERNAL', `${what} is not built: run \`npm run build\``);
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface DetachedHelper {
  what: string;
  entry: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  dir: string;
  log: string;
  /** A log past this size is moved to .old first. */
  rotateBytes: number;
  alreadyRunningExit: number;
  /** The helper is up (its lock taken, its first look done): the start is complete. */
  isUp(): Promise<boolean> | boolean;
  timeoutMs: number;
}

export async function startDetached(helper: DetachedHelper): Promise<void> {
  await fsp.mkdir(helper.dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(helper.dir, 0o700);
  const size = await fsp.stat(helper.log).then(
    (s) => s.size,
    () => 0,
  );
  if (size > helper.rotateBytes) await fsp.rename(helper.log, `${helper.log}.old`).catch(() => undefined);
  const log = fs.openSync(helper.log, 'a', 0o600);
  let failed: number | null = null;
  try {
    const child = spawn(process.execPath, [helper.entry, ...helper.args], {
      detached: true,
      cwd: '/',
      stdio: ['ignore', log, log],
      env: { ...helper.env, NODE_OPTIONS: '' },
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== helper.alreadyRunningExit) failed = code ?? -1;
    });
    child.on('error', () => (failed = -1));
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  const deadline = Date.now() + helper.timeoutMs;
  for (;;) {
    if (await helper.isUp()) return;
    if (failed !== null || Date.now() > deadline) {
      const tail = logTail(helper.log);
      throw new VmdeskError('IO', `${helper.what} did not start; see ${helper.log}${tail ? `\n${tail}` : ''}`, { log: helper.log });
    }
    await sleep(50);
  }
}
