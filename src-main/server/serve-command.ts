/**
 * `vmdesk serve`: a long-lived core (watching the library) behind the headless server, until
 * SIGINT or SIGTERM. The machines keep running when it stops: they are detached QEMU processes.
 */
import net from 'node:net';
import { VmdeskError } from '../api/errors.js';
import type { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { isLoopback } from './access.js';
import { startServer } from './server.js';
import { findRendererDir } from './static-files.js';

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function listenPort(value: string): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new VmdeskError('INVALID_INPUT', `--port must be a port number from 1 to 65535 (or 0 for any free port), not "${value}"`);
  return port;
}

export function listenHost(value: string): string {
  const host = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (net.isIP(host) === 0 && !HOSTNAME.test(host))
    throw new VmdeskError('INVALID_INPUT', `--host must be an IP address or a host name, not "${value.slice(0, 80)}"`);
  return host;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function serve(core: Core, options: { host: string; port: number; serverRender?: boolean }): Promise<void> {
  const stopWatching = await core.watch();
  try {
    const service = new CoreService(core);
    const server = await startServer({
      core,
      service,
      host: options.host,
      port: options.port,
      rendererDir: findRendererDir(),
      // The main window drawn here for the token URL's load (window-render.ts), unless told not to.
      ...(options.serverRender === false ? { serverRendererDir: null } : {}),
    });
    // Remote hosts connect in the background; their rows say how it goes.
    void service.hosts.connectAll().catch((err: unknown) => process.stderr.write(`warning: remote hosts: ${(err as Error).message}\n`));
    process.stdout.write(`VMDesk is serving on ${server.url}/?token=${server.token}\n`);
    // A non-loopback address is allowed (a headless box reached from a workstation is the point of
    // `serve`), but nothing else protects it: plain HTTP, so the token and the consoles cross the
    // network readable by anyone on the path. Said out loud rather than refused; an SSH tunnel
    // (`ssh -L`) to a loopback server is the safe way, and the warning says so.
    if (!isLoopback(options.host))
      process.stderr.write(
        `warning: ${options.host} is not a loopback address: other machines can reach this server, the token is its only ` +
          `protection and the connection is not encrypted (an SSH tunnel to a loopback server is safer)\n`,
      );
    const signal = await untilSignal();
    process.stderr.write(`Stopping the server (${signal}); running machines keep running.\n`);
    await server.close();
    service.close();
  } finally {
    stopWatching();
  }
}
