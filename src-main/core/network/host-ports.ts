/**
 * Is a host port free for a NAT forward? Found out the only reliable way: by binding it (TCP or UDP)
 * on the rule's host address, and letting it go at once.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { VmdeskError } from '../../api/errors.js';
import type { MachineConfig, PortForward } from '../../api/machine-config.js';

type HostSide = Pick<PortForward, 'protocol' | 'hostAddress' | 'hostPort'>;

/** null when the port can be bound; else the errno code (EADDRINUSE, EACCES, EADDRNOTAVAIL, ...). */
export function probeHostPort(rule: HostSide): Promise<string | null> {
  const address = rule.hostAddress || '0.0.0.0';
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException): void => resolve(err.code ?? 'EINVAL');
    if (rule.protocol === 'udp') {
      const socket = dgram.createSocket({ type: 'udp4' });
      socket.once('error', failed);
      socket.bind({ address, port: rule.hostPort, exclusive: true }, () => socket.close(() => resolve(null)));
    } else {
      const server = net.createServer();
      server.once('error', failed);
      server.listen({ host: address, port: rule.hostPort, exclusive: true }, () => server.close(() => resolve(null)));
    }
  });
}

function describe(rule: HostSide): string {
  return `${rule.protocol.toUpperCase()} port ${rule.hostPort} on ${rule.hostAddress || '0.0.0.0'}`;
}

/** Throws a clear error when the host side of a forward cannot be bound; `context` names the rule. */
export async function requireHostPortFree(rule: HostSide, context: string): Promise<void> {
  const code = await probeHostPort(rule);
  if (code === null) return;
  const address = rule.hostAddress || '0.0.0.0';
  if (code === 'EADDRINUSE')
    throw new VmdeskError('ALREADY_EXISTS', `Host port ${rule.hostPort} is already in use on ${address} (${context})`, {
      port: rule.hostPort,
      address,
      protocol: rule.protocol,
    });
  if (code === 'EACCES')
    throw new VmdeskError(
      'INVALID_INPUT',
      `Host port ${rule.hostPort} needs privileges to be bound on ${address} (${context}): use a port above 1023`,
    );
  if (code === 'EADDRNOTAVAIL')
    throw new VmdeskError('INVALID_INPUT', `${address} is not an address of this host (${context}): use 127.0.0.1 or 0.0.0.0`);
  throw new VmdeskError('IO', `Cannot bind ${describe(rule)} (${context}): ${code}`);
}

/** Two rules that cannot both listen: same protocol and port, and one address covers the other. */
export function hostSidesClash(a: HostSide, b: HostSide): boolean {
  if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) return false;
  const any = (x: string): boolean => x === '' || x === '0.0.0.0';
  return a.hostAddress === b.hostAddress || any(a.hostAddress) || any(b.hostAddress);
}

/** Each NAT forward of a machine, with "rule NAME of adapter N" for messages. */
export function natForwards(config: MachineConfig): Array<{ rule: PortForward; nicId: string; label: string }> {
  return config.nics.flatMap((nic) =>
    nic.attachment.type === 'nat'
      ? nic.attachment.portForwards.map((rule) => ({
          rule,
          nicId: nic.id,
          label: `rule "${rule.name}" of adapter ${adapterNumber(nic.id)}`,
        }))
      : [],
  );
}

/** net0 → 1: adapters are counted from 1 for people, as in VirtualBox. */
export function adapterNumber(nicId: string): number {
  return Number(nicId.replace(/^net/, '')) + 1;
}
