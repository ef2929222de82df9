/**
 * The headless host (`vmdesk serve`): the built renderer over HTTP, the API contract over a
 * WebSocket at `/api`, and the console streams at `/console/{serial,vnc}/<uuid>`. Every request,
 * plain or upgrade, passes the same access check (Host, Origin, token) first.
 */
import fs from 'node:fs';
import path from 'node:path';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { VmdeskApi } from '../api/contract.js';
import { VmdeskError } from '../api/errors.js';
import type { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { accessPolicy, checkAccess, hostWithPort, isWildcard, newToken, pageCookie, type AccessPolicy } from './access.js';
import { serveApiSocket } from './api-socket.js';
import { bridgeConsole, localStream, parseConsolePath, remoteStream } from './console-bridge.js';
import { securityHeaders, sendPage, upgradeRefusal } from './http-responses.js';
import { mimeType, rendererIsBuilt, resolveStaticFile } from './static-files.js';
import { noNativeMenu } from './front-end.js';
import { WindowRenderer } from './window-render.js';

export interface ServerOptions {
  core: Core;
  host?: string;
  port?: number;
  token?: string;
  rendererDir: string;
  /**
   * The renderer's build for Node, which draws the main window for a first load with the token
   * (window-render.ts); default: `renderer-ssr` beside rendererDir. None there, or null: the page
   * draws itself.
   */
  serverRendererDir?: string | null;
  /** Further Origins allowed to open WebSockets (the desktop app passes its own). */
  allowedOrigins?: readonly string[];
  /** The desktop app's service (one set of SSH connections per process); made here otherwise. */
  service?: CoreService;
}

export interface RunningServer {
  /** http://HOST:PORT */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Limits of inbound WebSocket frames: /api answers frames over 1 MiB with an error, up to this. */
const API_MAX_PAYLOAD = 8 * 1024 * 1024;
const STREAM_MAX_PAYLOAD = 1024 * 1024;

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') reject(new VmdeskError('ALREADY_EXISTS', `Port ${port} on ${host} is already in use`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
        reject(new VmdeskError('INVALID_INPUT', `Cannot listen on ${host}: no such address on this host`));
      else if (err.code === 'EACCES')
        reject(new VmdeskError('IO', `Not allowed to listen on port ${port} (ports below 1024 need privileges)`));
      else reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { core, rendererDir } = options;
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const service = options.service ?? new CoreService(core);
  const ownsService = !options.service;
  let policy: AccessPolicy | null = null;
  let serverWs = '';
  const serverRendererDir =
    options.serverRendererDir === undefined ? path.join(path.dirname(rendererDir), 'renderer-ssr') : options.serverRendererDir;
  const windows = serverRendererDir === null ? null : new WindowRenderer(serverRendererDir, rendererDir, service);
  // Any change in the core (machines, states, tasks, hosts) makes the window kept drawn out of date.
  const stopWatchingChanges = windows ? service.subscribe(() => windows.changed()) : () => undefined;

  const headersFor = (requestHost: string | undefined): Record<string, string> =>
    securityHeaders([...new Set([serverWs, ...(requestHost && policy?.hosts.has(requestHost) ? [`ws://${requestHost}`] : [])])]);

  const apiWss = new WebSocketServer({ noServer: true, maxPayload: API_MAX_PAYLOAD });
  const streamWss = new WebSocketServer({
    noServer: true,
    maxPayload: STREAM_MAX_PAYLOAD,
    // noVNC offers the `binary` subprotocol; take it, and speak plain binary frames otherwise.
    handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vmdesk.invalid');
    const headers = headersFor(req.headers.host?.toLowerCase());
    const access = checkAccess(policy as AccessPolicy, req, url, false);
    if (!access.ok) return sendPage(res, access.status, headers);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendPage(res, 405, headers);
    // The token URL of a first visit: the page key goes into a cookie for the loads that follow, and
    // the page moves the token into its own storage and out of the address bar (the renderer's
    // api/client.ts). The token itself never goes into a cookie: see access.ts.
    const login: Record<string, string> = access.tokenFromQuery ? { 'Set-Cookie': pageCookie((policy as AccessPolicy).pageKey) } : {};
    if (url.pathname === '/' && !rendererIsBuilt(rendererDir)) return sendPage(res, 503, headers);
    if (url.pathname === '/' && access.tokenFromQuery && windows && (await sendDrawnWindow(windows, req, res, { ...headers, ...login })))
      return;
    const file = await resolveStaticFile(rendererDir, url.pathname);
    if (!file && url.pathname === '/favicon.ico') {
      // Browsers ask for it unprompted; a 404 would be a console error on every page load.
      res.writeHead(204, { ...headers, 'Cache-Control': 'max-age=86400' });
      res.end();
      return;
    }
    if (!file) return sendPage(res, 404, headers);
    const type = mimeType(file);
    const stat = await fs.promises.stat(file);
    res.writeHead(200, {
      ...headers,
      ...login,
      'Content-Type': type,
      'Content-Length': String(stat.size),
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  /**
   * The main window drawn here, for the load of the token URL (window-render.ts): its head sent at
   * once, the window when drawn. False when it cannot be, and the page is then served as built.
   */
  async function sendDrawnWindow(
    windows: WindowRenderer,
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string>,
  ): Promise<boolean> {
    const page = await windows.page(req.headers['accept-language']);
    if (!page) return false;
    res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    res.write(page.head);
    res.end(await page.rest);
    return true;
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (status: 400 | 401 | 403 | 404): void => {
      socket.end(upgradeRefusal(status));
    };
    const url = new URL(req.url ?? '/', 'http://vmdesk.invalid');
    const access = checkAccess(policy as AccessPolicy, req, url, true);
    if (!access.ok) return refuse(access.status);
    // Routed on the path as sent: `new URL` would resolve dot segments (`/console/serial/A/../B`).
    const rawPath = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (rawPath === '/api') {
      const api: VmdeskApi = Object.assign(Object.create(service) as CoreService, {
        streamEndpoint: () => Promise.resolve({ url: `ws://${access.host}`, token }),
        setMenuLanguage: noNativeMenu,
      });
      apiWss.handleUpgrade(req, socket, head, (ws) =>
        serveApiSocket(ws, {
          api,
          subscribe: (sink) => service.subscribe(sink),
          route: (host, method, args) => service.call(host, method, args, api),
        }),
      );
      return;
    }
    const target = parseConsolePath(rawPath);
    if (!target)
      return refuse(/^\/(host\/[^/]*\/)?console\//.test(url.pathname) || /^\/(host\/[^/]*\/)?console\//.test(rawPath) ? 400 : 404);
    const source = target.host
      ? remoteStream(service.hosts, target.host, target.kind, target.uuid)
      : localStream(core, target.kind, target.uuid);
    streamWss.handleUpgrade(req, socket, head, (ws) => void bridgeConsole(ws, source));
  }

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) sendPage(res, 404, headersFor(undefined));
      else res.destroy();
    });
  });
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());

  const port = await listen(server, host, options.port ?? 0);
  // Once listening, an error (a failed accept when out of file descriptors) costs one connection,
  // not the server and the process with it.
  server.on('error', () => undefined);
  policy = accessPolicy({ token, pageKey: newToken() }, host, port, options.allowedOrigins);
  // A wildcard address is no address to browse to: this host reaches it as 127.0.0.1.
  const address = hostWithPort(isWildcard(host) ? '127.0.0.1' : host, port);
  serverWs = `ws://${address}`;
  // The server build read and compiled now, not when the first page is asked for.
  if (windows?.available()) void windows.warmUp();

  let closing: Promise<void> | null = null;
  return {
    url: `http://${address}`,
    port,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const wss of [apiWss, streamWss]) for (const ws of wss.clients) ws.close(1001, 'The VMDesk server is stopping');
        server.close(() => resolve());
        setTimeout(() => {
          for (const wss of [apiWss, streamWss]) for (const ws of wss.clients) ws.terminate();
          server.closeAllConnections();
        }, 500).unref();
        server.closeIdleConnections();
      }).then(
        () =>
          new Promise<void>((resolve) => {
            stopWatchingChanges();
            windows?.close();
            if (ownsService) service.close();
            apiWss.close(() => streamWss.close(() => resolve()));
          }),
      );
      return closing;
    },
  };
}
