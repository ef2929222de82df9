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
import { streamTarget, type ConsoleKind } from '../core/console/stream-target.js';

export type { ConsoleKind };
import type { HostManager } from '../core/hosts/host-manager.js';
import { LOCAL_HOST } from '../api/hosts.js';

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
  /** The SSH link to the machine's host dropped: the machine runs on, reconnect when the host is back. */
  hostDisconnected: 4503,
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
export function parseConsolePath(rawPath: string): { kind: ConsoleKind; uuid: string; host?: string } | null {
  const match =
    /^(?:\/host\/([A-Za-z0-9][A-Za-z0-9._-]{0,62}))?\/console\/(serial|vnc)\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/.exec(
      rawPath,
    );
  if (!match?.[3]) return null;
  const host = match[1] && match[1] !== LOCAL_HOST ? { host: match[1] } : {};
  return { kind: match[2] as ConsoleKind, uuid: match[3].toLowerCase(), ...host };
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

/** Where a stream connects, and how it says it closed when the unix socket ends. */
export interface StreamSource {
  kind: ConsoleKind;
  target(): Promise<string>;
  /** The close code and reason when the unix socket ends; default: the machine stopped. */
  ended?(): Promise<{ code: number; reason: string }>;
}

/** A remote machine's stream, forwarded through the SSH connection to its host. */
export function remoteStream(hosts: HostManager, host: string, kind: ConsoleKind, uuid: string): StreamSource {
  return {
    kind,
    target: () => hosts.forwardStream(host, kind, uuid),
    // A stream and its SSH connection end together when the link drops; which ended first is a race,
    // so the connection gets a moment to report its loss before the viewer is told why.
    ended: async () => {
      await new Promise((r) => setTimeout(r, 500));
      return hosts.isConnected(host)
        ? {
            code: CLOSE_CODES.gone,
            reason: kind === 'vnc' ? 'The display closed (the machine stopped)' : 'The console closed (the machine stopped)',
          }
        : { code: CLOSE_CODES.hostDisconnected, reason: `The connection to ${host} was lost; the machine runs on there. Reconnecting…` };
    },
  };
}

/** A local machine's stream. */
export function localStream(core: Core, kind: ConsoleKind, uuid: string): StreamSource {
  return { kind, target: () => streamTarget(core, kind, uuid) };
}

export async function bridgeConsole(ws: WebSocket, source: StreamSource): Promise<void> {
  const { kind } = source;
  // What the viewer sends before the unix socket is open is kept, in order.
  const early: Buffer[] = [];
  const keepEarly = (data: Buffer): void => void early.push(data);
  ws.on('message', keepEarly);
  let unix: net.Socket;
  try {
    const target = await source.target();
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
    if (ws.readyState !== ws.OPEN) return;
    const stopped = {
      code: CLOSE_CODES.gone,
      reason: kind === 'vnc' ? 'The display closed (the machine stopped)' : 'The console closed (the machine stopped)',
    };
    void (source.ended?.() ?? Promise.resolve(stopped)).then(({ code, reason }) => {
      if (ws.readyState === ws.OPEN) ws.close(code, closeReason(reason));
    });
  });
  ws.on('close', () => unix.destroy());
  ws.on('error', () => unix.destroy());
}
