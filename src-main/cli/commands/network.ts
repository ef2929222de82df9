/** `vmdesk nic`, `vmdesk portforward` and `vmdesk network host`. Adapters are counted 1..4, as in VirtualBox. */
import { Option, type Command } from 'commander';
import { VmdeskError } from '../../api/errors.js';
import {
  MAX_NICS,
  NIC_MODELS,
  PORT_PROTOCOLS,
  bridgeNameSchema,
  internalNetworkNameSchema,
  type MachineConfig,
  type NicAttachment,
} from '../../api/machine-config.js';
import type { NetworkHostInfo, NetworkOutcome, PortForwardInput, SetNicInput } from '../../api/network.js';
import type { Core } from '../../core/core.js';
import { addPortForwardOp, networkHostOp, removePortForwardOp, setNicOp } from '../../core/network/network-ops.js';
import { formatNic, table } from '../format.js';

const MODELS: Record<string, (typeof NIC_MODELS)[number]> = {
  virtio: 'virtio-net-pci',
  'virtio-net-pci': 'virtio-net-pci',
  e1000: 'e1000',
  rtl8139: 'rtl8139',
};

function warn(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

/** "1".."4" → slot 0..3. */
export function adapterSlot(value: string, flag = 'ADAPTER'): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NICS)
    throw new VmdeskError('INVALID_INPUT', `${flag} is a number from 1 to ${MAX_NICS}, not "${value}"`);
  return n - 1;
}

/** nat | none | bridged:BRIDGE | internal:NETWORK, each name checked as the core checks it. */
export function parseAttach(value: string): NicAttachment | { type: 'nat' } {
  if (value === 'nat') return { type: 'nat' };
  if (value === 'none') return { type: 'none' };
  const colon = value.indexOf(':');
  const [kind, name] = colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
  const schema = kind === 'bridged' ? bridgeNameSchema : kind === 'internal' ? internalNetworkNameSchema : null;
  if (!schema || colon < 0)
    throw new VmdeskError('INVALID_INPUT', `--attach takes nat, none, bridged:BRIDGE or internal:NETWORK, not "${value.slice(0, 80)}"`);
  const parsed = schema.safeParse(name);
  if (!parsed.success)
    throw new VmdeskError('INVALID_INPUT', `--attach ${value.slice(0, 80)}: ${parsed.error.issues[0]?.message ?? 'invalid name'}`);
  return kind === 'bridged' ? { type: 'bridged', bridge: parsed.data } : { type: 'internal', network: parsed.data };
}

function port(flag: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new VmdeskError('INVALID_INPUT', `${flag} is a port from 1 to 65535, not "${value}"`);
    return n;
  };
}

function onOff(flag: string) {
  return (value: string): boolean => {
    if (value === 'on') return true;
    if (value === 'off') return false;
    throw new VmdeskError('INVALID_INPUT', `${flag} takes on or off`);
  };
}

export function formatNics(config: MachineConfig): string {
  if (config.nics.length === 0) return `${config.name} has no network adapters`;
  return config.nics.map((n) => `Adapter ${Number(n.id.slice(3)) + 1}: ${formatNic(n)}`).join('\n');
}

export function formatForwards(config: MachineConfig, slot: number | undefined): string {
  const rows = [['ADAPTER', 'NAME', 'PROTOCOL', 'HOST', 'GUEST']];
  for (const nic of config.nics) {
    const index = Number(nic.id.slice(3));
    if (nic.attachment.type !== 'nat' || (slot !== undefined && slot !== index)) continue;
    for (const r of nic.attachment.portForwards)
      rows.push([
        String(index + 1),
        r.name,
        r.protocol,
        `${r.hostAddress || '0.0.0.0'}:${r.hostPort}`,
        `${r.guestAddress || '(DHCP address)'}:${r.guestPort}`,
      ]);
  }
  return rows.length === 1 ? `${config.name} has no port-forwarding rules` : table(rows);
}

export function formatNetworkHost(info: NetworkHostInfo): string {
  const lines: string[] = [];
  lines.push(info.bridges.length === 0 ? 'Bridges: none' : 'Bridges:');
  for (const b of info.bridges)
    lines.push(`  ${b.name}  ${b.state}  ports: ${b.ports.join(', ') || '-'}  ${b.allowed ? 'allowed' : 'not allowed by the ACL'}`);
  const h = info.bridgeHelper;
  lines.push(`Bridge helper: ${h.path ?? 'not installed'}${h.path ? (h.privileged ? ' (privileged)' : ' (not privileged)') : ''}`);
  lines.push(`Helper ACL:    ${h.aclFile} (allows: ${h.allowed.join(', ') || 'nothing'})`);
  if (h.problems.length === 0) lines.push('Bridged networking: ready');
  else lines.push('Bridged networking problems:', ...h.problems.map((p) => `  - ${p}`));
  lines.push(info.internalNetworks.length === 0 ? 'Internal networks: none' : 'Internal networks:');
  for (const n of info.internalNetworks) lines.push(`  ${n.name}: ${n.machines.join(', ')}`);
  return lines.join('\n');
}

function report(o: { json?: boolean }, outcome: NetworkOutcome, human: string): void {
  warn(outcome.warnings);
  process.stdout.write((o.json ? JSON.stringify(outcome, null, 2) : `${human}${outcome.live ? ' (live)' : ''}`) + '\n');
}

interface NicOptions {
  attach?: string;
  model?: string;
  mac?: string;
  cable?: boolean;
  remove?: boolean;
  json?: boolean;
}

interface ForwardOptions {
  hostPort?: number;
  guestPort?: number;
  protocol?: (typeof PORT_PROTOCOLS)[number];
  hostAddress?: string;
  guestAddress?: string;
  adapter?: string;
  json?: boolean;
}

export function registerNetworkCommands(program: Command, core: Core): void {
  program
    .command('nic')
    .argument('<name>', 'the machine')
    .argument('[adapter]', `the adapter, 1 to ${MAX_NICS}`)
    .description('show or change network adapters: nic NAME [ADAPTER --attach nat|bridged:BRIDGE|internal:NET|none ...]')
    .option('--attach <attachment>', 'nat, bridged:BRIDGE, internal:NETWORK or none')
    .addOption(new Option('--model <model>', 'adapter model').choices(['virtio', 'e1000', 'rtl8139']))
    .option('--mac <mac>', 'a MAC address, or auto for a new one')
    .option('--cable <on|off>', 'cable connected (live on a running machine)', onOff('--cable'))
    .option('--remove', 'remove the adapter')
    .option('--json', 'print JSON')
    .action(async (name: string, adapter: string | undefined, o: NicOptions) => {
      const changes = o.attach !== undefined || o.model !== undefined || o.mac !== undefined || o.cable !== undefined;
      if (adapter === undefined) {
        if (changes || o.remove) throw new VmdeskError('INVALID_INPUT', 'Which adapter? vmdesk nic NAME ADAPTER --attach ...');
        const m = await core.get(name);
        process.stdout.write((o.json ? JSON.stringify(m.config.nics, null, 2) : formatNics(m.config)) + '\n');
        return;
      }
      const slot = adapterSlot(adapter);
      if (o.remove && changes) throw new VmdeskError('INVALID_INPUT', '--remove takes no other options');
      if (!o.remove && !changes) {
        const m = await core.get(name);
        const nic = m.config.nics.find((n) => n.id === `net${slot}`);
        if (!nic) throw new VmdeskError('NOT_FOUND', `${m.config.name} has no Adapter ${slot + 1}`);
        process.stdout.write((o.json ? JSON.stringify(nic, null, 2) : `Adapter ${slot + 1}: ${formatNic(nic)}`) + '\n');
        return;
      }
      const input: SetNicInput = o.remove
        ? { enabled: false }
        : {
            ...(o.attach !== undefined && { attachment: parseAttach(o.attach) }),
            ...(o.model !== undefined && { model: MODELS[o.model] }),
            ...(o.mac !== undefined && { mac: o.mac.toLowerCase() }),
            ...(o.cable !== undefined && { cable: o.cable }),
          };
      const outcome = await setNicOp(core, name, slot, input);
      const nic = outcome.config.nics.find((n) => n.id === `net${slot}`);
      report(
        o,
        outcome,
        nic ? `Adapter ${slot + 1} of ${outcome.config.name}: ${formatNic(nic)}` : `Removed Adapter ${slot + 1} of ${outcome.config.name}`,
      );
    });

  program
    .command('portforward')
    .argument('<name>', 'the machine')
    .argument('<action>', 'add, remove or list')
    .argument('[rule]', 'the rule name (add, remove)')
    .description('NAT port forwarding: portforward NAME add RULE --host-port P --guest-port P | remove RULE | list')
    .option('--host-port <port>', 'add: the port on the host', port('--host-port'))
    .option('--guest-port <port>', 'add: the port in the guest', port('--guest-port'))
    .addOption(new Option('--protocol <protocol>', 'add: tcp or udp').choices(PORT_PROTOCOLS))
    .option('--host-address <ip>', 'add: the host address to listen on (default 127.0.0.1; 0.0.0.0 for all)')
    .option('--guest-address <ip>', "add: the guest's address (default: its DHCP address)")
    .option('--adapter <n>', `the NAT adapter, 1 to ${MAX_NICS} (default 1; list: all)`)
    .option('--json', 'print JSON')
    .action(async (name: string, action: string, rule: string | undefined, o: ForwardOptions) => {
      if (action !== 'add' && action !== 'remove' && action !== 'list')
        throw new VmdeskError('INVALID_INPUT', `Unknown portforward action "${action}" (use add, remove or list)`);
      const addOnly = (['hostPort', 'guestPort', 'protocol', 'hostAddress', 'guestAddress'] as const).filter((k) => o[k] !== undefined);
      if (action !== 'add' && addOnly.length > 0)
        throw new VmdeskError(
          'INVALID_INPUT',
          `Option --${addOnly[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not go with ${action}`,
        );
      const adapterGiven = o.adapter !== undefined;
      const slot = adapterSlot(o.adapter ?? '1', '--adapter');
      if (action === 'list') {
        if (rule !== undefined) throw new VmdeskError('INVALID_INPUT', 'list takes no rule name');
        const m = await core.get(name);
        const nics = m.config.nics.filter((n) => n.attachment.type === 'nat' && (!adapterGiven || n.id === `net${slot}`));
        const rules = nics.flatMap((n) =>
          n.attachment.type === 'nat' ? n.attachment.portForwards.map((r) => ({ adapter: Number(n.id.slice(3)) + 1, ...r })) : [],
        );
        process.stdout.write((o.json ? JSON.stringify(rules, null, 2) : formatForwards(m.config, adapterGiven ? slot : undefined)) + '\n');
        return;
      }
      if (rule === undefined) throw new VmdeskError('INVALID_INPUT', `Which rule? vmdesk portforward NAME ${action} RULE`);
      if (action === 'remove') {
        const outcome = await removePortForwardOp(core, name, slot, rule);
        report(o, outcome, `Removed rule "${rule}" from Adapter ${slot + 1} of ${outcome.config.name}`);
        return;
      }
      if (o.hostPort === undefined || o.guestPort === undefined)
        throw new VmdeskError('INVALID_INPUT', 'add needs --host-port and --guest-port');
      const input: PortForwardInput = {
        name: rule,
        hostPort: o.hostPort,
        guestPort: o.guestPort,
        ...(o.protocol !== undefined && { protocol: o.protocol }),
        ...(o.hostAddress !== undefined && { hostAddress: o.hostAddress }),
        ...(o.guestAddress !== undefined && { guestAddress: o.guestAddress }),
      };
      const outcome = await addPortForwardOp(core, name, slot, input);
      const r = outcome.config.nics.find((n) => n.id === `net${slot}`);
      const added = r?.attachment.type === 'nat' ? r.attachment.portForwards.find((x) => x.name === rule) : undefined;
      const where = added ? `${added.protocol} ${added.hostAddress}:${added.hostPort} → guest port ${added.guestPort}` : '';
      report(o, outcome, `Added rule "${rule}" to Adapter ${slot + 1} of ${outcome.config.name}: ${where}`);
    });

  const network = program.command('network').description('host networking: network host');
  network
    .command('host')
    .description('bridges, what bridged networking still needs (with the fix), internal networks in use')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const info = await networkHostOp(core);
      process.stdout.write((o.json ? JSON.stringify(info, null, 2) : formatNetworkHost(info)) + '\n');
    });
}
