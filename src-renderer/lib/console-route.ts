/**
 * The two screens, chosen by the URL hash: `#/` (manager) and a console window — `#/console/<uuid>`
 * for a machine of this computer, `#/console/<host>/<uuid>` for one of a remote host.
 */
import { LOCAL_HOST, hostOf, isLocalHost, type MachineRef } from './hosts';

export type Route = { name: 'main' } | ({ name: 'console' } & MachineRef);

const SEGMENT = '([^/?#]+)';
const CONSOLE = new RegExp(`^#/console/${SEGMENT}(?:/${SEGMENT})?/?(?:[?#].*)?$`);

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const match = CONSOLE.exec(hash);
  if (!match?.[1]) return { name: 'main' };
  const first = decode(match[1]);
  const second = match[2] === undefined ? undefined : decode(match[2]);
  if (first === null || second === null || first === '') return { name: 'main' };
  if (second === undefined) return { name: 'console', host: LOCAL_HOST, uuid: first };
  if (second === '') return { name: 'main' };
  return { name: 'console', host: hostOf(first), uuid: second };
}

export function consoleHref(ref: MachineRef): string {
  const uuid = encodeURIComponent(ref.uuid);
  return isLocalHost(ref.host) ? `#/console/${uuid}` : `#/console/${encodeURIComponent(ref.host)}/${uuid}`;
}

/** One console window per machine: window.open with this name focuses the open one. */
export function consoleWindowName(ref: MachineRef): string {
  return isLocalHost(ref.host) ? `vmdesk-console-${ref.uuid}` : `vmdesk-console-${ref.host}-${ref.uuid}`;
}
