/**
 * Console streams: a WebSocket bridged byte for byte to a unix socket — the agent's console.sock
 * (serial: scrollback, then live output; what the viewer sends is typed into the guest) or QEMU's
 * VNC socket (RFB, for noVNC). One unix connection per viewer; both sides close together, and the
 * unix socket is paused while the viewer is slow to read.
 */
import net from 'node:net';
import type WebSocket from 'ws';
import { toErrorShape, VmdeskError, type ErrorCode } from '../api/errors.js';
import type { Core } from '../core/core.js';

export type ConsoleKind = 'serial' | 'vnc';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/** Close codes in the private range (4000–4999) mirror HTTP statuses; 1011 is anything else. */
export const CLOSE_CODES = {
  normal: 1000,
  error: 1011,
  badRequest: 4400,
  notFound: 4404,
  notRunning: 4409,
  gone: 4410,
} as const;

const CLOSE_FOR_ERROR: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: CLOSE_CODES.badRequest,
  NOT_FOUND: CLOSE_CODES.notFound,
  INVALID_STATE: CLOSE_CODES.notRunning,
};

/**
 * `/console/<kind>/<uuid>` → its parts, or null. `rawPath` is the request target as sent, before any
 * URL normalisation: a uuid needs no escape and no dot segment, so a path with `%`, `.`, `//` or
 * anything after the uuid is refused rather than resolved to some other path.
 */
export function parseConsolePath(rawPath: string): { kind: ConsoleKind; uuid: string } | null {
  const match = /^\/console\/(serial|vnc)\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/.exec(rawPath);
  return match?.[2] ? { kind: match[1] as ConsoleKind, uuid: match[2].toLowerCase() } : null;
}

/** A close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text.replace(/\s+/g, ' ');
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -2);
  return reason;
}

export function closeWithError(ws: WebSocket, err: unknown): void {
  const shape = toErrorShape(err);
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING)
    ws.close(CLOSE_FOR_ERROR[shape.code] ?? CLOSE_CODES.error, closeReason(shape.message));
}

/**
 * The unix socket a console stream of a running machine connects to. The core looks a machine up by
 * uuid or by name, and a name may look like a uuid: a stream asked for by uuid gets the machine of
 * that uuid or nothing, never one whose name happens to be that uuid (say, created after the
 * machine of the uuid was deleted).
 */
async function consoleTarget(core: Core, kind: ConsoleKind, uuid: string): Promise<string> {
  const machine = await core.get(uuid);
  if (machine.uuid !== uuid) throw new VmdeskError('NOT_FOUND', `No machine with uuid ${uuid}`);
  if (kind === 'serial') {
    const socket = await core.consoleSocket(uuid);
    if (socket !== core.runtime.file(uuid, 'console')) throw new VmdeskError('NOT_FOUND', `No machine with uuid ${uuid}`);
    return socket;
  }
  if (!core.runtime.isActive(machine.status.state))
    throw new VmdeskError('INVALID_STATE', `${machine.config.name} is not running (it is ${machine.status.state})`);
  if (machine.config.display.adapter === 'none') throw new VmdeskError('INVALID_STATE', `${machine.config.name} has no display`);
  return core.runtime.file(uuid, 'vnc');
}

function connectUnix(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export async function bridgeConsole(ws: WebSocket, core: Core, kind: ConsoleKind, uuid: string): Promise<void> {
  // What the viewer sends before the unix socket is open is kept, in order.
  const early: Buffer[] = [];
  const keepEarly = (data: Buffer): void => void early.push(data);
  ws.on('message', keepEarly);
  let unix: net.Socket;
  try {
    const target = await consoleTarget(core, kind, uuid);
    unix = await connectUnix(target).catch((err: NodeJS.ErrnoException) => {
      throw new VmdeskError(
        'INVALID_STATE',
        `The ${kind === 'vnc' ? 'display' : 'console'} of this machine is not available (${err.code ?? err.message})`,
      );
    });
  } catch (err) {
    closeWithError(ws, err);
    return;
  }
  if (ws.readyState !== ws.OPEN) {
    unix.destroy();
    return;
  }
  ws.off('message', keepEarly);
  for (const chunk of early) unix.write(chunk);

  const resumeWhenDrained = (): void => {
    if (unix.isPaused() && ws.bufferedAmount < LOW_WATER) unix.resume();
  };
  unix.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(chunk, { binary: true }, resumeWhenDrained);
    if (ws.bufferedAmount > HIGH_WATER) unix.pause();
  });
  ws.on('message', (data: Buffer) => {
    if (!unix.write(data)) ws.pause();
  });
  unix.on('drain', () => ws.resume());
  unix.on('error', () => undefined);
  unix.on('close', () => {
    if (ws.readyState === ws.OPEN)
      ws.close(CLOSE_CODES.gone, kind === 'vnc' ? 'The display closed (the machine stopped)' : 'The console closed (the machine stopped)');
  });
  ws.on('close', () => unix.destroy());
  ws.on('error', () => unix.destroy());
}
