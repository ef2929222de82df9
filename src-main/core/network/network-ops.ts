/**
 * Network changes as core operations: adapters (attachment, model, MAC, cable) and NAT port
 * forwards, under the machine's lock, live through QMP where QEMU can (cable, port forwards).
 * Everything is checked first, then applied to the running QEMU, then saved; a failed save undoes
 * the live change, so nothing is ever applied half-way.
 */
import {
  nicSlotSchema,
  portForwardInputSchema,
  portForwardNameSchema,
  setNicInputSchema,
  type NetworkHostInfo,
  type NetworkOutcome,
  type PortForwardInput,
  type SetNicInput,
} from '../../api/network.js';
import { MAX_PORT_FORWARDS, type MachineConfig, type NicConfig, type PortForward } from '../../api/machine-config.js';
import { VmdeskError } from '../../api/errors.js';
import { parseInput } from '../../api/validation.js';
import type { Core } from '../core.js';
import { saveMachineConfig, type Library } from '../library/library.js';
import { onMachine, type LockedMachine, type Qmp } from '../machines/on-machine.js';
import { generateMac } from '../machines/media.js';
import { hostfwdKey, hostfwdRule, nicDeviceId } from '../qemu/qemu-args.js';
import { bridgeHostInfo } from './bridge-host.js';
import { adapterNumber, hostSidesClash, requireHostPortFree } from './host-ports.js';

type Machine = LockedMachine;

/** Save, or undo what was applied live and throw. */
async function saveOrUndo(machine: Machine, next: MachineConfig, undo: () => Promise<unknown>): Promise<void> {
  try {
    await saveMachineConfig(machine.dir, next);
  } catch (err) {
    await undo().catch(() => undefined);
    throw err;
  }
}

function adapterLabel(slot: number): string {
  return `Adapter ${slot + 1}`;
}

function nicOf(config: MachineConfig, slot: number): NicConfig | undefined {
  return config.nics.find((n) => n.id === `net${slot}`);
}

/** Every MAC in the library but this adapter's, with the machine that has it. */
async function macOwners(library: Library, self: { uuid: string; nicId: string }): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const record of await library.list()) {
    for (const nic of record.config?.nics ?? []) {
      if (record.uuid === self.uuid && nic.id === self.nicId) continue;
      const label =
        record.uuid === self.uuid
          ? `adapter ${adapterNumber(nic.id)} of ${record.config?.name ?? '?'}`
          : (record.config?.name ?? record.uuid);
      owners.set(nic.mac.toLowerCase(), label);
    }
  }
  return owners;
}

/** A rule set is sane: unique names, and no two rules of the machine listening on one host port. */
function requireRulesFit(config: MachineConfig, nicId: string, rules: readonly PortForward[], changed: readonly PortForward[]): void {
  if (rules.length > MAX_PORT_FORWARDS)
    throw new VmdeskError('INVALID_INPUT', `At most ${MAX_PORT_FORWARDS} port-forwarding rules per adapter`);
  const others = config.nics.flatMap((n) => (n.id !== nicId && n.attachment.type === 'nat' ? n.attachment.portForwards : []));
  for (const rule of changed) {
    const same = rules.filter((r) => r !== rule);
    if (same.some((r) => r.name.toLowerCase() === rule.name.toLowerCase()))
      throw new VmdeskError('ALREADY_EXISTS', `${adapterLabel(Number(nicId.slice(3)))} already has a rule named "${rule.name}"`);
    const clash = [...same, ...others].find((r) => hostSidesClash(r, rule));
    if (clash)
      throw new VmdeskError(
        'ALREADY_EXISTS',
        `Rule "${clash.name}" of ${config.name} already forwards ${rule.protocol.toUpperCase()} host port ${rule.hostPort} (${clash.hostAddress || '0.0.0.0'})`,
      );
  }
}

/** HMP answers in text: empty means done; QEMU's complaints come back as the text. */
async function hmp(qmp: Qmp, commandLine: string): Promise<string> {
  const out = await qmp('human-monitor-command', { 'command-line': commandLine });
  return typeof out === 'string' ? out.trim() : '';
}

/** The running netdev is not user-mode NAT (the attachment was changed while the machine ran). */
const NOT_NAT_NOW = /unrecognized netdev id|invalid device specified/i;

export async function networkHostOp(core: Core): Promise<NetworkHostInfo> {
  const host = await core.host();
  const info = await bridgeHostInfo({ qemuBinary: host.qemu?.binary ?? null, env: core.env });
  const networks = new Map<string, Set<string>>();
  for (const record of await core.library.list()) {
    for (const nic of record.config?.nics ?? []) {
      if (nic.attachment.type !== 'internal' || !record.config) continue;
      const set = networks.get(nic.attachment.network) ?? new Set<string>();
      set.add(record.config.name);
      networks.set(nic.attachment.network, set);
    }
  }
  const internalNetworks = [...networks].sort(([a], [b]) => a.localeCompare(b)).map(([name, set]) => ({ name, machines: [...set].sort() }));
  return { ...info, internalNetworks };
}

export async function setNicOp(core: Core, ref: string, rawSlot: number, rawInput: SetNicInput): Promise<NetworkOutcome> {
  const slot = parseInput(nicSlotSchema, rawSlot, 'adapter');
  const input = parseInput(setNicInputSchema, rawInput, 'adapter settings');
  // A NAT attachment given without rules keeps the adapter's rules (the schema's default hides that).
  const rawAttachment = (rawInput as { attachment?: unknown }).attachment;
  const keepRules = typeof rawAttachment === 'object' && rawAttachment !== null && !('portForwards' in rawAttachment);
  return onMachine(core, ref, 'changing a network adapter', async (machine, _running, qmp) => {
    const { config } = machine;
    const nicId = `net${slot}`;
    const label = adapterLabel(slot);
    const before = nicOf(config, slot);
    const warnings: string[] = [];
    const later = (what: string): void => {
      warnings.push(`${label}: ${what} applies at the next start of ${config.name}`);
    };
    const next: MachineConfig = structuredClone(config);

    if (input.enabled === false) {
      if (!before) throw new VmdeskError('NOT_FOUND', `${config.name} has no ${label}`);
      next.nics = next.nics.filter((n) => n.id !== nicId);
      if (qmp) later('the removal');
      await saveMachineConfig(machine.dir, next);
      return { config: next, live: false, warnings };
    }

    const taken = await macOwners(core.library, { uuid: machine.uuid, nicId });
    const nic: NicConfig = before
      ? structuredClone(before)
      : {
          id: nicId,
          model: 'virtio-net-pci',
          mac: generateMac(new Set(taken.keys())),
          cable: true,
          attachment: { type: 'nat', portForwards: [] },
        };
    if (input.attachment) {
      const attachment = structuredClone(input.attachment);
      if (attachment.type === 'nat' && keepRules && nic.attachment.type === 'nat') attachment.portForwards = nic.attachment.portForwards;
      if (attachment.type === 'nat') requireRulesFit(next, nicId, attachment.portForwards, attachment.portForwards);
      nic.attachment = attachment;
    }
    if (input.model) nic.model = input.model;
    if (input.mac === 'auto') nic.mac = generateMac(new Set(taken.keys()));
    else if (input.mac) {
      const mac = input.mac.toLowerCase();
      const owner = taken.get(mac);
      if (owner) throw new VmdeskError('ALREADY_EXISTS', `The MAC address ${mac} is already used by ${owner}`);
      nic.mac = mac;
    }
    if (input.cable !== undefined) nic.cable = input.cable;
    next.nics = [...next.nics.filter((n) => n.id !== nicId), nic].sort((a, b) => a.id.localeCompare(b.id));

    let live = false;
    let undo: () => Promise<unknown> = () => Promise.resolve();
    if (qmp) {
      if (!before) later('the new adapter');
      else {
        if (JSON.stringify(before.attachment) !== JSON.stringify(nic.attachment)) later('the attachment');
        if (before.model !== nic.model) later('the model');
        if (before.mac !== nic.mac) later('the MAC address');
        if (before.cable !== nic.cable) {
          await qmp('set_link', { name: nicDeviceId(nicId), up: nic.cable });
          undo = () => qmp('set_link', { name: nicDeviceId(nicId), up: before.cable });
          live = true;
        }
      }
    }
    await saveOrUndo(machine, next, undo);
    return { config: next, live, warnings };
  });
}

function natAdapter(config: MachineConfig, slot: number): NicConfig & { attachment: { type: 'nat' } } {
  const nic = nicOf(config, slot);
  if (!nic) throw new VmdeskError('NOT_FOUND', `${config.name} has no ${adapterLabel(slot)}`);
  if (nic.attachment.type !== 'nat')
    throw new VmdeskError(
      'INVALID_STATE',
      `${adapterLabel(slot)} of ${config.name} is ${nic.attachment.type}, not NAT: port forwards need NAT`,
    );
  return nic as NicConfig & { attachment: { type: 'nat' } };
}

export async function addPortForwardOp(core: Core, ref: string, rawSlot: number, rawRule: PortForwardInput): Promise<NetworkOutcome> {
  const slot = parseInput(nicSlotSchema, rawSlot, 'adapter');
  const rule = parseInput(portForwardInputSchema, rawRule, 'port-forwarding rule');
  return onMachine(core, ref, 'adding a port forward', async (machine, _running, qmp) => {
    const next: MachineConfig = structuredClone(machine.config);
    const nic = natAdapter(next, slot);
    const rules = [...nic.attachment.portForwards, rule];
    requireRulesFit(next, nic.id, rules, [rule]);
    await requireHostPortFree(rule, `rule "${rule.name}" of ${machine.config.name}`);
    nic.attachment.portForwards = rules;
    const warnings: string[] = [];
    let live = false;
    let undo: () => Promise<unknown> = () => Promise.resolve();
    if (qmp) {
      const out = await hmp(qmp, `hostfwd_add ${nic.id} ${hostfwdRule(rule)}`);
      if (NOT_NAT_NOW.test(out)) warnings.push(`${adapterLabel(slot)} is not on NAT until the next start: the rule applies then`);
      else if (out) throw new VmdeskError('QEMU_FAILED', `QEMU could not add the forward of host port ${rule.hostPort}: ${out}`);
      else {
        live = true;
        undo = () => hmp(qmp, `hostfwd_remove ${nic.id} ${hostfwdKey(rule)}`);
      }
    }
    await saveOrUndo(machine, next, undo);
    return { config: next, live, warnings };
  });
}

export async function removePortForwardOp(core: Core, ref: string, rawSlot: number, rawName: string): Promise<NetworkOutcome> {
  const slot = parseInput(nicSlotSchema, rawSlot, 'adapter');
  const name = parseInput(portForwardNameSchema, rawName, 'rule name');
  return onMachine(core, ref, 'removing a port forward', async (machine, _running, qmp) => {
    const next: MachineConfig = structuredClone(machine.config);
    const nic = natAdapter(next, slot);
    const rule = nic.attachment.portForwards.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!rule) throw new VmdeskError('NOT_FOUND', `${adapterLabel(slot)} of ${machine.config.name} has no rule named "${name}"`);
    nic.attachment.portForwards = nic.attachment.portForwards.filter((r) => r !== rule);
    const warnings: string[] = [];
    let live = false;
    let undo: () => Promise<unknown> = () => Promise.resolve();
    if (qmp) {
      const out = await hmp(qmp, `hostfwd_remove ${nic.id} ${hostfwdKey(rule)}`);
      if (/removed/i.test(out)) {
        live = true;
        undo = () => hmp(qmp, `hostfwd_add ${nic.id} ${hostfwdRule(rule)}`);
      } else if (NOT_NAT_NOW.test(out) || /could not remove/i.test(out)) {
        warnings.push(`The rule was not active in the running ${machine.config.name}; it is removed from its settings`);
      } else throw new VmdeskError('QEMU_FAILED', `QEMU could not remove the forward of host port ${rule.hostPort}: ${out}`);
    }
    await saveOrUndo(machine, next, undo);
    return { config: next, live, warnings };
  });
}
