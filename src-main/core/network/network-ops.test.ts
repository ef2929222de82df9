// Adapter and port-forward changes on stopped machines, through a real core on a throw-away library:
// what is saved, what is refused, and that a refusal leaves machine.json as it was.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../core.js';
import { addPortForwardOp, networkHostOp, removePortForwardOp, setNicOp } from './network-ops.js';

let base: string;
let core: Core;

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-netops-'));
  const env = { ...process.env, VMDESK_HOME: path.join(base, 'home'), VMDESK_RUNTIME_DIR: fs.mkdtempSync('/tmp/vmrt-') };
  core = new Core({ env });
  fs.writeFileSync(path.join(base, 'vmlinuz'), 'kernel');
  for (const name of ['a', 'b']) await core.create({ name, kernelBoot: { kernel: path.join(base, 'vmlinuz') } }).result;
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

async function machineJson(name: string): Promise<string> {
  return fs.readFileSync(path.join((await core.get(name)).dir, 'machine.json'), 'utf8');
}

describe('setNic', () => {
  it('adds an adapter with defaults and a new MAC, changes only what is given, removes it', async () => {
    const added = await setNicOp(core, 'a', 2, { attachment: { type: 'internal', network: 'lab' } });
    const nic = added.config.nics.find((n) => n.id === 'net2');
    expect(nic).toMatchObject({ model: 'virtio-net-pci', cable: true, attachment: { type: 'internal', network: 'lab' } });
    expect(nic?.mac).toMatch(/^52:54:00:/);
    expect(added).toMatchObject({ live: false, warnings: [] });
    expect(added.config.nics.map((n) => n.id)).toEqual(['net0', 'net2']);
    const changed = await setNicOp(core, 'a', 2, { model: 'e1000', cable: false });
    expect(changed.config.nics.find((n) => n.id === 'net2')).toMatchObject({ model: 'e1000', cable: false, mac: nic?.mac });
    expect((await networkHostOp(core)).internalNetworks).toEqual([{ name: 'lab', machines: ['a'] }]);
    const removed = await setNicOp(core, 'a', 2, { enabled: false });
    expect(removed.config.nics.map((n) => n.id)).toEqual(['net0']);
    await expect(setNicOp(core, 'a', 2, { enabled: false })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'a has no Adapter 3' });
  });

  it('keeps NAT rules when NAT is given again without rules; auto makes a new MAC', async () => {
    await addPortForwardOp(core, 'a', 0, { name: 'ssh', hostPort: 40022, guestPort: 22 });
    const before = (await core.get('a')).config.nics[0];
    const again = await setNicOp(core, 'a', 0, { attachment: { type: 'nat' }, mac: 'auto' });
    const after = again.config.nics[0];
    expect(after?.attachment).toEqual(before?.attachment);
    expect(after?.mac).not.toBe(before?.mac);
    await removePortForwardOp(core, 'a', 0, 'ssh');
  });

  it("refuses another adapter's MAC (any machine), a multicast MAC, and a slot past 4, changing nothing", async () => {
    const bMac = (await core.get('b')).config.nics[0]?.mac ?? '';
    const json = await machineJson('a');
    await expect(setNicOp(core, 'a', 0, { mac: bMac.toUpperCase() })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
      message: `The MAC address ${bMac} is already used by b`,
    });
    await setNicOp(core, 'a', 1, { attachment: { type: 'none' } });
    const aMac = (await core.get('a')).config.nics[0]?.mac ?? '';
    await expect(setNicOp(core, 'a', 1, { mac: aMac })).rejects.toThrow(`already used by adapter 1 of a`);
    await setNicOp(core, 'a', 1, { enabled: false });
    await expect(setNicOp(core, 'a', 0, { mac: '03:00:00:00:00:01' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(setNicOp(core, 'a', 0, { mac: '00:00:00:00:00:00' })).rejects.toThrow(/all zeros/);
    await expect(setNicOp(core, 'a', 4, { cable: true })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(setNicOp(core, 'a', 0, { attachment: { type: 'internal', network: 'x,y=z' } })).rejects.toThrow(/internal network name/);
    expect(await machineJson('a')).toBe(json);
  });
});

describe('port forwards', () => {
  it('adds with defaults (tcp, 127.0.0.1, the DHCP address), refuses clashes, removes', async () => {
    const r = await addPortForwardOp(core, 'b', 0, { name: 'web', hostPort: 40080, guestPort: 80 });
    const nic = r.config.nics[0];
    expect(nic?.attachment).toEqual({
      type: 'nat',
      portForwards: [{ name: 'web', protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 40080, guestAddress: '', guestPort: 80 }],
    });
    const json = await machineJson('b');
    await expect(addPortForwardOp(core, 'b', 0, { name: 'WEB', hostPort: 40081, guestPort: 80 })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
      message: 'Adapter 1 already has a rule named "WEB"',
    });
    await expect(addPortForwardOp(core, 'b', 0, { name: 'all', hostAddress: '0.0.0.0', hostPort: 40080, guestPort: 81 })).rejects.toThrow(
      /Rule "web" of b already forwards TCP host port 40080/,
    );
    await expect(addPortForwardOp(core, 'b', 0, { name: 'p', hostPort: 0, guestPort: 80 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(addPortForwardOp(core, 'b', 0, { name: 'p', hostPort: 1, guestPort: 70000 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      addPortForwardOp(core, 'b', 0, { name: 'p', hostAddress: '127.0.0.1,x', hostPort: 1, guestPort: 1 }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(addPortForwardOp(core, 'b', 1, { name: 'p', hostPort: 40090, guestPort: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await expect(addPortForwardOp(core, 'b', 0, { name: 'busy', hostPort: port, guestPort: 80 })).rejects.toThrow(
        `Host port ${port} is already in use on 127.0.0.1`,
      );
      // UDP on the same number is another port.
      await addPortForwardOp(core, 'b', 0, { name: 'dns', protocol: 'udp', hostPort: port, guestPort: 53 });
    } finally {
      server.close();
    }
    await removePortForwardOp(core, 'b', 0, 'dns');
    expect(await machineJson('b')).toBe(json);
    await removePortForwardOp(core, 'b', 0, 'web');
    await expect(removePortForwardOp(core, 'b', 0, 'web')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('needs a NAT adapter', async () => {
    await setNicOp(core, 'b', 0, { attachment: { type: 'none' } });
    await expect(addPortForwardOp(core, 'b', 0, { name: 'x', hostPort: 40100, guestPort: 1 })).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: 'Adapter 1 of b is none, not NAT: port forwards need NAT',
    });
  });
});
