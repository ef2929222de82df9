import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclAllowedNames, aclAllows, bridgeHostInfo, readBridgeAcl, requireBridgeUsable } from './bridge-host.js';
import { hostSidesClash, probeHostPort, requireHostPortFree } from './host-ports.js';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-bridge-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return file;
}

/** A /sys/class/net look-alike: br0 (up, with eth1), lab0 (down), eth0 (not a bridge). */
async function sysNet(): Promise<string> {
  const root = path.join(dir, 'sys');
  await write('sys/br0/operstate', 'up\n');
  await fs.mkdir(path.join(root, 'br0/bridge'), { recursive: true });
  await fs.mkdir(path.join(root, 'br0/brif/eth1'), { recursive: true });
  await write('sys/lab0/operstate', 'down\n');
  await fs.mkdir(path.join(root, 'lab0/bridge'), { recursive: true });
  await write('sys/eth0/operstate', 'up\n');
  return root;
}

describe('bridge helper ACL', () => {
  it('reads allow, deny, comments and includes; a deny anywhere wins', async () => {
    await write('acl/user.conf', '# per user\nallow lab0\ndeny br9\n');
    const main = await write(
      'acl/bridge.conf',
      `# QEMU bridge helper ACL\n\n  allow br0  \ninclude ${path.join(dir, 'acl/user.conf')}\nallow br9\n`,
    );
    const acl = await readBridgeAcl(main);
    expect(acl.error).toBeNull();
    expect(acl.rules).toEqual([
      { type: 'allow', iface: 'br0' },
      { type: 'allow', iface: 'lab0' },
      { type: 'deny', iface: 'br9' },
      { type: 'allow', iface: 'br9' },
    ]);
    expect(aclAllows(acl, 'br0')).toBe(true);
    expect(aclAllows(acl, 'lab0')).toBe(true);
    expect(aclAllows(acl, 'br9')).toBe(false);
    expect(aclAllows(acl, 'virbr0')).toBe(false);
    expect(aclAllowedNames(acl)).toEqual(['br0', 'lab0']);
  });

  it('allow all, deny all, relative includes', async () => {
    await write('acl2/more.conf', 'deny all\n');
    const all = await readBridgeAcl(await write('acl2/all.conf', 'allow all\n'));
    expect(aclAllows(all, 'anything')).toBe(true);
    expect(aclAllowedNames(all)).toEqual(['all']);
    const denied = await readBridgeAcl(await write('acl2/denied.conf', 'allow all\ninclude more.conf\n'));
    expect(aclAllows(denied, 'br0')).toBe(false);
    expect(aclAllowedNames(denied)).toEqual([]);
  });

  it('a missing file, an unknown command, a bad line or an include loop is an error, allowing nothing', async () => {
    expect((await readBridgeAcl(path.join(dir, 'none.conf'))).error).toMatch(/does not exist/);
    const unknown = await readBridgeAcl(await write('bad/unknown.conf', 'allow br0\npermit br1\n'));
    expect(unknown.error).toMatch(/line 2: unknown command "permit"/);
    expect(aclAllows(unknown, 'br0')).toBe(false);
    expect((await readBridgeAcl(await write('bad/short.conf', 'allow\n'))).error).toMatch(/line 1: expected/);
    expect((await readBridgeAcl(await write('bad/loop.conf', 'include loop.conf\n'))).error).toMatch(/loop/);
    expect((await readBridgeAcl(await write('bad/inc.conf', 'include missing.conf\n'))).error).toMatch(/missing.conf does not exist/);
  });
});

describe('bridge host check', () => {
  it('lists bridges with their state, ports and ACL verdict, and says what is missing with the fix', async () => {
    const helper = await write('bin/qemu-bridge-helper', '#!/bin/sh\n');
    await fs.chmod(helper, 0o755);
    const aclFile = await write('host/bridge.conf', 'allow br0\n');
    const env = { VMDESK_BRIDGE_HELPER: helper };
    const info = await bridgeHostInfo({ qemuBinary: null, env, sysNet: await sysNet(), aclFile, uid: 1000 });
    expect(info.bridges).toEqual([
      { name: 'br0', state: 'up', ports: ['eth1'], allowed: true },
      { name: 'lab0', state: 'down', ports: [], allowed: false },
    ]);
    expect(info.bridgeHelper).toMatchObject({ path: helper, privileged: false, aclFile, allowed: ['br0'] });
    expect(info.bridgeHelper.problems).toEqual([
      `${helper} cannot create tap devices for this user: run \`sudo chmod u+s ${helper}\``,
      `The bridge helper's ACL does not allow lab0: run \`echo 'allow lab0' | sudo tee -a ${aclFile}\``,
    ]);
    const noTun = await bridgeHostInfo({
      qemuBinary: null,
      env,
      sysNet: await sysNet(),
      aclFile,
      uid: 0,
      tunDevice: path.join(dir, 'tun'),
    });
    expect(noTun.bridgeHelper.problems[0]).toBe(`${path.join(dir, 'tun')} does not exist: run \`sudo modprobe tun\``);
    const asRoot = await bridgeHostInfo({ qemuBinary: null, env, sysNet: await sysNet(), aclFile, uid: 0 });
    expect(asRoot.bridgeHelper.privileged).toBe(true);
  });

  it('refuses a start on a missing bridge, a non-bridge, a bridge the ACL does not allow, or without an ACL', async () => {
    const helper = path.join(dir, 'bin/qemu-bridge-helper');
    const options = { qemuBinary: null, env: { VMDESK_BRIDGE_HELPER: helper }, sysNet: await sysNet(), uid: 0 };
    const aclFile = await write('start/bridge.conf', 'allow br0\n');
    await expect(requireBridgeUsable('br0', 'Adapter 1', { ...options, aclFile })).resolves.toBe(helper);
    await expect(requireBridgeUsable('nobr', 'Adapter 1', { ...options, aclFile })).rejects.toMatchObject({
      code: 'HOST_UNSUPPORTED',
      message: expect.stringMatching(/there is no bridge nobr on this host \(bridges here: br0, lab0\): make it/),
    });
    await expect(requireBridgeUsable('eth0', 'Adapter 2', { ...options, aclFile })).rejects.toThrow(
      /eth0 is a network interface, not a bridge/,
    );
    await expect(requireBridgeUsable('lab0', 'Adapter 1', { ...options, aclFile })).rejects.toThrow(
      `Adapter 1 is bridged to lab0, but the bridge helper's ACL ${aclFile} does not allow it: run \`echo 'allow lab0' | sudo tee -a ${aclFile}\``,
    );
    const missing = path.join(dir, 'start/none/bridge.conf');
    await expect(requireBridgeUsable('br0', 'Adapter 1', { ...options, aclFile: missing })).rejects.toThrow(
      `sudo mkdir -p ${path.dirname(missing)} && echo 'allow br0' | sudo tee -a ${missing}`,
    );
  });
});

describe('host ports', () => {
  it('a port held by a listening socket is in use; a free one is not', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await probeHostPort({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port })).toBe('EADDRINUSE');
      expect(await probeHostPort({ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: port })).toBeNull();
      await expect(requireHostPortFree({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port }, 'rule "web"')).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
        message: `Host port ${port} is already in use on 127.0.0.1 (rule "web")`,
      });
      await expect(requireHostPortFree({ protocol: 'tcp', hostAddress: '192.0.2.1', hostPort: port }, 'r')).rejects.toThrow(
        /not an address of this host/,
      );
    } finally {
      server.close();
    }
  });

  it('clashes: same protocol and port, with an address covering the other', () => {
    const a = { protocol: 'tcp' as const, hostAddress: '127.0.0.1', hostPort: 8080 };
    expect(hostSidesClash(a, { ...a })).toBe(true);
    expect(hostSidesClash(a, { ...a, hostAddress: '0.0.0.0' })).toBe(true);
    expect(hostSidesClash(a, { ...a, hostAddress: '10.1.1.1' })).toBe(false);
    expect(hostSidesClash(a, { ...a, protocol: 'udp' })).toBe(false);
    expect(hostSidesClash(a, { ...a, hostPort: 8081 })).toBe(false);
  });
});
