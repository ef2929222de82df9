import { defaultResources } from '../../src-main/api/machine-config';
import { describe, expect, it } from 'vitest';
import type { MachineConfig, NicConfig, PortForward } from '../../src-main/api/machine-config';
import type { NetworkHostInfo } from '../../src-main/api/network';
import { setNicInputSchema, portForwardInputSchema } from '../../src-main/api/network';
import { hardwareSummary } from './hardware-summary';
import {
  bridgeProblems,
  defaultRuleName,
  internalNetworksInUse,
  macOwners,
  newPortForwardForm,
  nicChange,
  nicChanges,
  nicDraftErrors,
  nicDraftsFrom,
  nicSummary,
  portForwardErrors,
  portForwardFrom,
  randomMac,
  type NicDraft,
} from './network-input';

const rule = (over: Partial<PortForward> = {}): PortForward => ({
  name: 'web',
  protocol: 'tcp',
  hostAddress: '127.0.0.1',
  hostPort: 8080,
  guestAddress: '',
  guestPort: 80,
  ...over,
});
const nat = (id: string, mac: string, rules: PortForward[] = []): NicConfig => ({
  id,
  model: 'virtio-net-pci',
  mac,
  cable: true,
  attachment: { type: 'nat', portForwards: rules },
});
const config = (nics: NicConfig[], name = 'vm1'): MachineConfig => ({
  version: 1,
  uuid: '0b5e9d54-7c1e-4b7e-9a59-3f1c1f0c2a11',
  name,
  osType: 'linux',
  cpus: 1,
  memoryMiB: 256,
  firmware: 'bios',
  bootOrder: ['disk'],
  disks: [],
  cdrom: null,
  kernelBoot: null,
  nics,
  display: { adapter: 'std' },
  serial: { enabled: true },
  resources: defaultResources(),
  notes: '',
  createdAt: '2026-11-25T10:00:00.000Z',
});
const vm = config([nat('net0', '52:54:00:aa:bb:01', [rule()])]);
const none = new Map<string, string>();

describe('adapter drafts', () => {
  it('has one draft per slot, enabled where an adapter exists', () => {
    const drafts = nicDraftsFrom(vm);
    expect(drafts.map((d) => d.enabled)).toEqual([true, false, false, false]);
    expect(drafts[0]).toMatchObject({ type: 'nat', model: 'virtio-net-pci', mac: '52:54:00:aa:bb:01', cable: true });
    expect(drafts[1]).toMatchObject({ type: 'nat', mac: '', cable: true });
  });

  it('sends nothing when nothing changed', () => {
    expect(nicChanges(nicDraftsFrom(vm), vm)).toEqual([]);
  });

  it('sends only what changed; NAT without rules (the core keeps them)', () => {
    const drafts = nicDraftsFrom(vm);
    drafts[0]!.model = 'e1000';
    expect(nicChange(drafts[0]!, vm.nics[0])).toEqual({ model: 'e1000' });
    drafts[0]!.type = 'internal';
    drafts[0]!.network = 'lab';
    expect(nicChange(drafts[0]!, vm.nics[0])).toEqual({ model: 'e1000', attachment: { type: 'internal', network: 'lab' } });
    drafts[0]!.type = 'nat';
    expect(nicChange(drafts[0]!, vm.nics[0])).toEqual({ model: 'e1000' });
  });

  it('adds a new adapter whole (MAC auto when left empty) and removes one; removals first', () => {
    const drafts = nicDraftsFrom(vm);
    drafts[1]!.enabled = true;
    drafts[1]!.type = 'internal';
    drafts[1]!.network = 'lab';
    drafts[0]!.enabled = false;
    const changes = nicChanges(drafts, vm);
    expect(changes).toEqual([
      { slot: 0, input: { enabled: false } },
      {
        slot: 1,
        input: { enabled: true, attachment: { type: 'internal', network: 'lab' }, model: 'virtio-net-pci', mac: 'auto', cable: true },
      },
    ]);
    for (const c of changes) expect(setNicInputSchema.safeParse(c.input).success).toBe(true);
  });

  it('checks bridge, network name and MAC as the core does', () => {
    const drafts: NicDraft[] = nicDraftsFrom(vm);
    const d = drafts[0]!;
    d.type = 'bridged';
    expect(nicDraftErrors(drafts, 0, none).bridge).toBe('Choose the host bridge');
    d.bridge = 'br 0';
    expect(nicDraftErrors(drafts, 0, none).bridge).toMatch(/interface name/);
    d.bridge = 'br0';
    expect(nicDraftErrors(drafts, 0, none)).toEqual({});
    d.type = 'internal';
    d.network = 'lab;rm';
    expect(nicDraftErrors(drafts, 0, none).network).toMatch(/letters, digits/);
    d.network = 'lab';
    d.mac = '53:54:00:00:00:01';
    expect(nicDraftErrors(drafts, 0, none).mac).toMatch(/multicast/);
    d.mac = '52:54:00:00:00';
    expect(nicDraftErrors(drafts, 0, none).mac).toMatch(/looks like/);
    d.mac = '00:00:00:00:00:00';
    expect(nicDraftErrors(drafts, 0, none).mac).toMatch(/all zeros/);
  });

  it('refuses a MAC another adapter or another machine uses', () => {
    const drafts = nicDraftsFrom(vm);
    drafts[1]!.enabled = true;
    drafts[1]!.mac = '52:54:00:AA:BB:01';
    expect(nicDraftErrors(drafts, 1, none).mac).toBe('Adapter 1 has the same MAC address');
    const other = config([nat('net0', '52:54:00:cc:cc:cc')], 'web');
    const owners = macOwners(
      [
        { uuid: 'x', config: other },
        { uuid: vm.uuid, config: vm },
      ],
      vm.uuid,
    );
    expect([...owners]).toEqual([['52:54:00:cc:cc:cc', 'web']]);
    drafts[1]!.mac = '52:54:00:cc:cc:cc';
    expect(nicDraftErrors(drafts, 1, owners).mac).toBe('The machine “web” already uses this MAC address');
    drafts[1]!.enabled = false;
    expect(nicDraftErrors(drafts, 1, owners)).toEqual({});
  });

  it('generates unicast QEMU MACs not taken', () => {
    let i = 0;
    const seq = [0, 0, 0, 0.5, 0.5, 0.5];
    const mac = randomMac(new Set(['52:54:00:00:00:00']), () => seq[i++ % seq.length]!);
    expect(mac).toBe('52:54:00:80:80:80');
  });
});

describe('port-forward form', () => {
  it('starts with a free rule name and the host-only address', () => {
    expect(newPortForwardForm([rule({ name: 'Rule 1' })])).toMatchObject({ name: 'Rule 2', hostAddress: '127.0.0.1', protocol: 'tcp' });
    expect(defaultRuleName([])).toBe('Rule 1');
  });

  it('checks every field as typed, with the schema’s words', () => {
    const f = { ...newPortForwardForm([]), hostPort: '70000', guestPort: 'x', hostAddress: '127.0.0', name: 'a;b' };
    const e = portForwardErrors(f, []);
    expect(e.hostPort).toBe('A port is a number from 1 to 65535');
    expect(e.guestPort).toMatch(/whole number/);
    expect(e.hostAddress).toMatch(/IPv4/);
    expect(e.name).toMatch(/letters, digits/);
    expect(portForwardErrors({ ...f, hostPort: '0' }, []).hostPort).toMatch(/1 to 65535/);
  });

  it('refuses a name or a host port the adapter already forwards', () => {
    const rules = [rule()];
    const f = { ...newPortForwardForm(rules), name: 'WEB', hostPort: '8080', guestPort: '80' };
    const e = portForwardErrors(f, rules);
    expect(e.name).toMatch(/exists/);
    expect(e.hostPort).toBe('Rule “web” already forwards TCP port 8080');
    expect(portForwardErrors({ ...f, name: 'x', protocol: 'udp' }, rules)).toEqual({});
    expect(portForwardErrors({ ...f, name: 'x', hostAddress: '0.0.0.0' }, rules).hostPort).toMatch(/already forwards/);
  });

  it('makes the rule the core accepts', () => {
    const f = { ...newPortForwardForm([]), hostPort: '18080', guestPort: '8080' };
    expect(portForwardErrors(f, [])).toEqual({});
    const r = portForwardFrom(f);
    expect(r).toEqual({ name: 'Rule 1', protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 18080, guestAddress: '', guestPort: 8080 });
    expect(portForwardInputSchema.parse(r)).toEqual(r);
  });
});

describe('host bridges', () => {
  const info = (over: Partial<NetworkHostInfo['bridgeHelper']> = {}): NetworkHostInfo => ({
    bridges: [
      { name: 'br0', state: 'up', ports: ['eth0'], allowed: true },
      { name: 'br1', state: 'down', ports: [], allowed: false },
    ],
    bridgeHelper: {
      path: '/usr/lib/qemu/qemu-bridge-helper',
      privileged: true,
      aclFile: '/etc/qemu/bridge.conf',
      allowed: ['br0'],
      problems: [],
      ...over,
    },
    internalNetworks: [],
  });

  it('has nothing to say when the bridge is allowed and the helper works', () => {
    expect(bridgeProblems(info(), 'br0')).toEqual([]);
  });

  it('says what is missing, with the fix; not what concerns other bridges', () => {
    const acl = "The bridge helper's ACL does not allow br1: run `echo 'allow br1' | sudo tee -a /etc/qemu/bridge.conf`";
    expect(bridgeProblems(info({ problems: [acl] }), 'br0')).toEqual([]);
    expect(bridgeProblems(info({ problems: [acl] }), 'br1')).toEqual([acl]);
    expect(bridgeProblems(info(), 'br1')).toEqual([expect.stringContaining("echo 'allow br1' | sudo tee -a /etc/qemu/bridge.conf")]);
    expect(bridgeProblems(info(), 'nope')[0]).toMatch(/no bridge named “nope”/);
    const helper = 'qemu-bridge-helper cannot create tap devices for this user: run `sudo chmod u+s /usr/lib/qemu/qemu-bridge-helper`';
    expect(bridgeProblems(info({ privileged: false, problems: [helper, acl] }), 'br0')).toEqual([helper]);
  });
});

describe('summaries', () => {
  it('says model, attachment, forwards and cable in a few words', () => {
    expect(nicSummary(nat('net0', '52:54:00:00:00:01', [rule(), rule({ name: 'b', hostPort: 2222 })]))).toBe('virtio-net, NAT, 2 forwards');
    expect(nicSummary({ ...nat('net1', '52:54:00:00:00:02'), model: 'e1000', attachment: { type: 'internal', network: 'lab' } })).toBe(
      "Intel e1000, Internal 'lab'",
    );
    expect(nicSummary({ ...nat('net2', '52:54:00:00:00:03'), cable: false, attachment: { type: 'bridged', bridge: 'br0' } })).toBe(
      'virtio-net, Bridged br0, cable unplugged',
    );
  });

  it('lists the adapters in the details pane in slot order', () => {
    const c = config([{ ...nat('net2', '52:54:00:00:00:03'), attachment: { type: 'none' } }, nat('net0', '52:54:00:00:00:01', [rule()])]);
    const network = hardwareSummary(c).find((s) => s.title === 'Network');
    expect(network?.rows).toEqual([
      { label: 'Adapter 1', value: 'virtio-net, NAT, 1 forward' },
      { label: 'Adapter 3', value: 'virtio-net, Not attached' },
    ]);
    expect(hardwareSummary(config([])).find((s) => s.title === 'Network')?.rows).toEqual([{ label: 'Adapters', value: 'None' }]);
  });

  it('names the internal networks in use with their machines', () => {
    const a = config([{ ...nat('net0', '52:54:00:00:00:01'), attachment: { type: 'internal', network: 'lab' } }], 'a');
    const b = config([{ ...nat('net1', '52:54:00:00:00:02'), attachment: { type: 'internal', network: 'lab' } }], 'b');
    expect(internalNetworksInUse([{ config: b }, { config: a }, { config: null }])).toEqual([{ name: 'lab', machines: ['b', 'a'] }]);
  });
});
