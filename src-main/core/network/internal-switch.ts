/**
 * Internal networks: one VMDesk switch process per network name (see switch/), which QEMU joins with
 * `-netdev stream,server=off,addr.type=unix,addr.path=SOCKET`. The switch is started detached, like
 * a machine's agent, so it outlives the core that started it; it exits by itself a few seconds after
 * its last machine leaves.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmdeskError } from '../../api/errors.js';
import { NET_DIR, SOCKET_PATH_MAX, runtimeRoot } from '../paths.js';
import { FrameDecoder, encodeFrame } from './switch/frame-codec.js';
import { ALREADY_RUNNING_EXIT, HOLD_MESSAGE, switchFiles } from './switch/switch-server.js';

const START_TIMEOUT_MS = 10_000;
const HOLD_ANSWER_TIMEOUT_MS = 2_000;
/** A switch log past this size is moved to .log.old when the next switch of the network starts. */
const LOG_ROTATE_BYTES = 1024 * 1024;

/** The switch's socket: short (a hash of the name), since unix socket paths are limited to 107 bytes. */
export function internalSwitchSocket(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return path.join(runtimeRoot(env), NET_DIR, `${hash}.sock`);
}

/** The switch's program: the bundle of the package this module belongs to (like the agent's). */
export function switchEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      if (fs.existsSync(path.join(dir, 'dist', 'bundle', 'switch.cjs'))) return path.join(dir, 'bin', 'vmdesk-switch.cjs');
      break;
    }
  }
  throw new VmdeskError('INTERNAL', 'The internal network switch is not built: run `npm run build`');
}

/**
 * True when a switch answers on the socket. The question is a hold request: a switch that answers it
 * stays up long enough for the machine being started to connect.
 */
export function holdSwitch(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    const decoder = new FrameDecoder();
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      conn.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), HOLD_ANSWER_TIMEOUT_MS);
    conn.on('connect', () => conn.write(encodeFrame(HOLD_MESSAGE)));
    conn.on('data', (chunk: Buffer) => {
      try {
        if (decoder.push(chunk).some((f) => f.equals(HOLD_MESSAGE))) done(true);
      } catch {
        done(false);
      }
    });
    conn.on('error', () => done(false));
    conn.on('close', () => done(false));
  });
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/** Starts the network's switch unless one is running; resolves with the socket once it accepts. */
export function ensureInternalSwitch(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return ensureSwitchWith(switchEntry(), name, env);
}

/** ensureInternalSwitch with the switch program given (tests run it from a fresh bundle). */
export async function ensureSwitchWith(entry: string, name: string, env: NodeJS.ProcessEnv, timeoutMs = START_TIMEOUT_MS): Promise<string> {
  if (name === '') throw new VmdeskError('INVALID_INPUT', 'An internal network needs a name');
  const socket = internalSwitchSocket(name, env);
  if (Buffer.byteLength(socket) > SOCKET_PATH_MAX) {
    throw new VmdeskError(
      'HOST_UNSUPPORTED',
      `The runtime directory path is too long for unix sockets (${socket}); set VMDESK_RUNTIME_DIR to a shorter directory`,
    );
  }
  const dir = path.dirname(socket);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(dir, 0o700);
  if (await holdSwitch(socket)) return socket;

  // Two cores may get here at once: both start a switch, the second finds the first's lock and exits.
  const files = switchFiles(socket);
  const size = await fsp.stat(files.log).then(
    (s) => s.size,
    () => 0,
  );
  if (size > LOG_ROTATE_BYTES) await fsp.rename(files.log, `${files.log}.old`).catch(() => undefined);
  const log = fs.openSync(files.log, 'a', 0o600);
  let failed: number | null = null;
  try {
    const child = spawn(process.execPath, [entry, socket, name], {
      detached: true,
      cwd: '/',
      stdio: ['ignore', log, log],
      env: { ...env, NODE_OPTIONS: '' },
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== ALREADY_RUNNING_EXIT) failed = code ?? -1;
    });
    child.on('error', () => (failed = -1));
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await holdSwitch(socket)) return socket;
    if (failed !== null || Date.now() > deadline) {
      const tail = logTail(files.log);
      throw new VmdeskError('IO', `The switch of internal network "${name}" did not start; see ${files.log}${tail ? `\n${tail}` : ''}`, {
        log: files.log,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
