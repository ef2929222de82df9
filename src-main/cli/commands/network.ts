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
  type NicConfig,
} from '../../api/machine-config.js';
import type { NetworkHostInfo, NetworkOutcome, PortForwardInput, SetNicInput } from '../../api/network.js';
import type { Core } from '../../core/core.js';
import { addPortForwardOp, networkHostOp, removePortForwardOp, setNicOp } from '../../core/network/network-ops.js';
import { t } from '../../i18n/i18n.js';
import { fields, formatNic, table } from '../format.js';
import { warn } from '../output.js';

const MODELS: Record<string, (typeof NIC_MODELS)[number]> = {
  virtio: 'virtio-net-pci',
  'virtio-net-pci': 'virtio-net-pci',
  e1000: 'e1000',
  rtl8139: 'rtl8139',
};

/** "1".."4" → slot 0..3. */
export function adapterSlot(value: string, flag = 'ADAPTER'): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NICS)
    throw new VmdeskError('INVALID_INPUT', t('commands.network.adapterInvalid', { flag, max: MAX_NICS, value }));
  return n - 1;
}

/** nat | none | bridged:BRIDGE | internal:NETWORK, each name checked as the core checks it. */
export function parseAttach(value: string): NicAttachment | { type: 'nat' } {
  if (value === 'nat') return { type: 'nat' };
  if (value === 'none') return { type: 'none' };
  const colon = value.indexOf(':');
  const [kind, name] = colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
  const schema = kind === 'bridged' ? bridgeNameSchema : kind === 'internal' ? internalNetworkNameSchema : null;
  if (!schema || colon < 0) throw new VmdeskError('INVALID_INPUT', t('commands.network.attachInvalid', { value: value.slice(0, 80) }));
  const parsed = schema.safeParse(name);
  if (!parsed.success)
    throw new VmdeskError(
      'INVALID_INPUT',
      `--attach ${value.slice(0, 80)}: ${parsed.error.issues[0]?.message ?? t('commands.network.invalidName')}`,
    );
  return kind === 'bridged' ? { type: 'bridged', bridge: parsed.data } : { type: 'internal', network: parsed.data };
}

function port(flag: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new VmdeskError('INVALID_INPUT', t('commands.network.portInvalid', { flag, value }));
    return n;
  };
}

function onOff(flag: string) {
  return (value: string): boolean => {
    if (value === 'on') return true;
    if (value === 'off') return false;
    throw new VmdeskError('INVALID_INPUT', t('cli.invalid.onOff', { flag }));
  };
}

/** "Adapter 1: virtio-net-pci 52:54:00:12:34:56 NAT". */
function adapterLine(slot: number, nic: NicConfig): string {
  return t('commands.network.adapterLine', { n: slot + 1, nic: formatNic(nic) });
}

export function formatNics(config: MachineConfig): string {
  if (config.nics.length === 0) return t('commands.network.noAdapters', { name: config.name });
  return config.nics.map((n) => adapterLine(Number(n.id.slice(3)), n)).join('\n');
}

const FORWARD_COLUMNS = ['adapter', 'name', 'protocol', 'host', 'guest'] as const;

export function formatForwards(config: MachineConfig, slot: number | undefined): string {
  const rows = [FORWARD_COLUMNS.map((column) => t(`commands.network.forwardHeader.${column}`))];
  for (const nic of config.nics) {
    const index = Number(nic.id.slice(3));
    if (nic.attachment.type !== 'nat' || (slot !== undefined && slot !== index)) continue;
    for (const r of nic.attachment.portForwards)
      rows.push([
        String(index + 1),
        r.name,
        r.protocol,
        `${r.hostAddress || '0.0.0.0'}:${r.hostPort}`,
        `${r.guestAddress || t('commands.network.dhcpAddress')}:${r.guestPort}`,
      ]);
  }
  return rows.length === 1 ? t('commands.network.noForwards', { name: config.name }) : table(rows);
}

export function formatNetworkHost(info: NetworkHostInfo): string {
  const lines: string[] = [];
  lines.push(t(info.bridges.length === 0 ? 'commands.network.bridgesNone' : 'commands.network.bridges'));
  for (const b of info.bridges) {
    const allowed = t(b.allowed ? 'commands.network.allowed' : 'commands.network.notAllowed');
    lines.push(`  ${b.name}  ${b.state}  ${t('commands.network.ports', { ports: b.ports.join(', ') || '-' })}  ${allowed}`);
  }
  const h = info.bridgeHelper;
  const helper = h.path
    ? t(h.privileged ? 'commands.network.helperPrivileged' : 'commands.network.helperUnprivileged', { path: h.path })
    : t('commands.network.helperMissing');
  lines.push(
    ...fields([
      [t('commands.network.helper'), helper],
      [
        t('commands.network.acl'),
        t('commands.network.aclAllows', { file: h.aclFile, allowed: h.allowed.join(', ') || t('commands.network.nothing') }),
      ],
    ]),
  );
  if (h.problems.length === 0) lines.push(t('commands.network.bridgedReady'));
  else lines.push(t('commands.network.bridgedProblems'), ...h.problems.map((p) => `  - ${p}`));
  lines.push(t(info.internalNetworks.length === 0 ? 'commands.network.internalNone' : 'commands.network.internal'));
  for (const n of info.internalNetworks) lines.push(`  ${n.name}: ${n.machines.join(', ')}`);
  return lines.join('\n');
}

function report(o: { json?: boolean }, outcome: NetworkOutcome, human: string): void {
  warn(outcome.warnings);
  process.stdout.write((o.json ? JSON.stringify(outcome, null, 2) : `${human}${outcome.live ? ` ${t('commands.disk.live')}` : ''}`) + '\n');
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
    .argument('<name>', t('cli.theMachine'))
    .argument('[adapter]', t('commands.network.adapter', { max: MAX_NICS }))
    .description(t('commands.network.nicDescription'))
    .option('--attach <attachment>', t('commands.network.attach'))
    .addOption(new Option('--model <model>', t('commands.network.model')).choices(['virtio', 'e1000', 'rtl8139']))
    .option('--mac <mac>', t('commands.network.mac'))
    .option('--cable <on|off>', t('commands.network.cable'), onOff('--cable'))
    .option('--remove', t('commands.network.remove'))
    .option('--json', t('cli.json'))
    .action(async (name: string, adapter: string | undefined, o: NicOptions) => {
      const changes = o.attach !== undefined || o.model !== undefined || o.mac !== undefined || o.cable !== undefined;
      if (adapter === undefined) {
        if (changes || o.remove) throw new VmdeskError('INVALID_INPUT', t('commands.network.whichAdapter'));
        const m = await core.get(name);
        process.stdout.write((o.json ? JSON.stringify(m.config.nics, null, 2) : formatNics(m.config)) + '\n');
        return;
      }
      const slot = adapterSlot(adapter);
      if (o.remove && changes) throw new VmdeskError('INVALID_INPUT', t('commands.network.removeAlone'));
      if (!o.remove && !changes) {
        const m = await core.get(name);
        const nic = m.config.nics.find((n) => n.id === `net${slot}`);
        if (!nic) throw new VmdeskError('NOT_FOUND', t('commands.network.noAdapter', { name: m.config.name, n: slot + 1 }));
        process.stdout.write((o.json ? JSON.stringify(nic, null, 2) : adapterLine(slot, nic)) + '\n');
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
        nic
          ? t('commands.network.adapterOf', { n: slot + 1, name: outcome.config.name, nic: formatNic(nic) })
          : t('commands.network.removedAdapter', { n: slot + 1, name: outcome.config.name }),
      );
    });

  program
    .command('portforward')
    .argument('<name>', t('cli.theMachine'))
    .argument('<action>', t('commands.network.forwardAction'))
    .argument('[rule]', t('commands.network.rule'))
    .description(t('commands.network.forwardDescription'))
    .option('--host-port <port>', t('commands.network.hostPort'), port('--host-port'))
    .option('--guest-port <port>', t('commands.network.guestPort'), port('--guest-port'))
    .addOption(new Option('--protocol <protocol>', t('commands.network.protocol')).choices(PORT_PROTOCOLS))
    .option('--host-address <ip>', t('commands.network.hostAddress'))
    .option('--guest-address <ip>', t('commands.network.guestAddress'))
    .option('--adapter <n>', t('commands.network.natAdapter', { max: MAX_NICS }))
    .option('--json', t('cli.json'))
    .action(async (name: string, action: string, rule: string | undefined, o: ForwardOptions) => {
      if (action !== 'add' && action !== 'remove' && action !== 'list')
        throw new VmdeskError(
          'INVALID_INPUT',
          t('cli.invalid.unknownAction', { command: 'portforward', action, actions: t('commands.network.forwardAction') }),
        );
      const addOnly = (['hostPort', 'guestPort', 'protocol', 'hostAddress', 'guestAddress'] as const).filter((k) => o[k] !== undefined);
      if (action !== 'add' && addOnly.length > 0)
        throw new VmdeskError(
          'INVALID_INPUT',
          t('cli.invalid.misplacedOption', { option: `--${addOnly[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, action }),
        );
      const adapterGiven = o.adapter !== undefined;
      const slot = adapterSlot(o.adapter ?? '1', '--adapter');
      if (action === 'list') {
        if (rule !== undefined) throw new VmdeskError('INVALID_INPUT', t('commands.network.listNoRule'));
        const m = await core.get(name);
        const nics = m.config.nics.filter((n) => n.attachment.type === 'nat' && (!adapterGiven || n.id === `net${slot}`));
        const rules = nics.flatMap((n) =>
          n.attachment.type === 'nat' ? n.attachment.portForwards.map((r) => ({ adapter: Number(n.id.slice(3)) + 1, ...r })) : [],
        );
        process.stdout.write((o.json ? JSON.stringify(rules, null, 2) : formatForwards(m.config, adapterGiven ? slot : undefined)) + '\n');
        return;
      }
      if (rule === undefined) throw new VmdeskError('INVALID_INPUT', t('commands.network.whichRule', { action }));
      if (action === 'remove') {
        const outcome = await removePortForwardOp(core, name, slot, rule);
        report(o, outcome, t('commands.network.removedRule', { rule, n: slot + 1, name: outcome.config.name }));
        return;
      }
      if (o.hostPort === undefined || o.guestPort === undefined)
        throw new VmdeskError('INVALID_INPUT', t('commands.network.addNeedsPorts'));
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
      const where = added
        ? t('commands.network.forwardWhere', {
            protocol: added.protocol,
            host: `${added.hostAddress}:${added.hostPort}`,
            port: added.guestPort,
          })
        : '';
      report(o, outcome, t('commands.network.addedRule', { rule, n: slot + 1, name: outcome.config.name, where }));
    });

  const network = program.command('network').description(t('commands.network.networkDescription'));
  network
    .command('host')
    .description(t('commands.network.hostDescription'))
    .option('--json', t('cli.json'))
    .action(async (o: { json?: boolean }) => {
      const info = await networkHostOp(core);
      process.stdout.write((o.json ? JSON.stringify(info, null, 2) : formatNetworkHost(info)) + '\n');
    });
}
