// NAT networking with real QEMU and the demo guest, through the real CLI: the guest gets its address
// by DHCP and fetches a page from an HTTP server this test runs on the host (10.0.2.2 from the guest);
// a port forward added while the guest runs reaches busybox httpd in the guest, and removing it closes
// the port; the cable unplugged stops traffic and plugged in brings it back. Bad input through the
// CLI: host port in use (at add and at start), ports 0 and 70000, another machine's MAC, a multicast
// MAC, a bridge that does not exist, odd network names: each a clear error, a non-zero exit and
// machine.json unchanged.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../api/errors.js';
import { guestSays, makeSandbox, ok, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const PAGE = 'hello-from-the-host';
const GUEST_PAGE = 'served-by-the-guest';
let sb: Sandbox;
let server: http.Server;
let serverPort: number;
let blocker: net.Server;
let blockedPort: number;

interface Shown {
  uuid: string;
  dir: string;
  status: { state: string };
  config: { nics: Array<{ id: string; mac: string; cable: boolean }> };
}
async function show(name: string): Promise<Shown> {
  return JSON.parse(await ok(sb, ['show', name, '--json'])) as Shown;
}

function listen(srv: net.Server): Promise<number> {
  return new Promise((resolve) => srv.listen({ host: '127.0.0.1', port: 0 }, () => resolve((srv.address() as net.AddressInfo).port)));
}

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** Type a line into the guest, then wait for `answer` in what it prints afterwards. */
function guest(name: string, line: string, answer: RegExp, timeoutS = 30): Promise<string> {
  return guestSays(sb, name, line, answer, timeoutS);
}

/** GET from the host side; the error code (ECONNREFUSED, ...) when it fails. */
function fetchText(port: number, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve('ERESET'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'ERROR'));
  });
}

/** The CLI fails with `code` and a message matching `message`, and machine.json stays byte for byte. */
async function refused(name: string, args: string[], code: keyof typeof ERROR_CODES, message: RegExp): Promise<void> {
  const file = path.join((await show(name)).dir, 'machine.json');
  const before = fs.readFileSync(file, 'utf8');
  const r = await vmdesk(sb, args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: ERROR_CODES[code], stderr: expect.stringMatching(message) as unknown });
  expect(fs.readFileSync(file, 'utf8')).toBe(before);
}

beforeAll(async () => {
  sb = makeSandbox();
  server = http.createServer((_req, res) => res.end(`${PAGE}\n`));
  serverPort = await listen(server);
  blocker = net.createServer();
  blockedPort = await listen(blocker);
  await ok(sb, ['create', 'nw', '--demo']);
  await ok(sb, ['create', 'other', '--demo']);
  // Booting while the refusals below run on the other machine.
  await ok(sb, ['start', 'nw']);
});
afterAll(async () => {
  server.close();
  blocker.close();
  await sb.cleanup();
});

describe('bad input is refused clearly, with nothing changed', () => {
  it('a host port in use, ports 0 and 70000', async () => {
    await refused(
      'other',
      ['portforward', 'other', 'add', 'busy', '--host-port', String(blockedPort), '--guest-port', '80'],
      'ALREADY_EXISTS',
      new RegExp(`Host port ${blockedPort} is already in use on 127\\.0\\.0\\.1`),
    );
    await refused(
      'other',
      ['portforward', 'other', 'add', 'zero', '--host-port', '0', '--guest-port', '80'],
      'INVALID_INPUT',
      /--host-port is a port from 1 to 65535, not "0"/,
    );
    await refused(
      'other',
      ['portforward', 'other', 'add', 'big', '--host-port', '8080', '--guest-port', '70000'],
      'INVALID_INPUT',
      /--guest-port is a port from 1 to 65535, not "70000"/,
    );
    await refused('other', ['portforward', 'other', 'remove', 'nothing'], 'NOT_FOUND', /Adapter 1 of other has no rule named "nothing"/);
  });

  it("another machine's MAC, a multicast MAC", async () => {
    const mac = (await show('nw')).config.nics[0]?.mac ?? '';
    await refused(
      'other',
      ['nic', 'other', '1', '--mac', mac],
      'ALREADY_EXISTS',
      new RegExp(`The MAC address ${mac} is already used by nw`),
    );
    await refused('other', ['nic', 'other', '1', '--mac', '01:00:5e:00:00:01'], 'INVALID_INPUT', /must not be multicast/);
    await refused('other', ['nic', 'other', '1', '--mac', '52:54:00:zz:00:01'], 'INVALID_INPUT', /A MAC address looks like/);
    await refused('other', ['nic', 'other', '5', '--attach', 'nat'], 'INVALID_INPUT', /ADAPTER is a number from 1 to 4/);
  });

  it('network names with odd characters', async () => {
    for (const name of ['a b', '../x', 'x,y=z', ''])
      await refused(
        'other',
        ['nic', 'other', '2', '--attach', `internal:${name}`],
        'INVALID_INPUT',
        /An internal network name is 1–63 letters/,
      );
    await refused('other', ['nic', 'other', '2', '--attach', 'bridged:br0;reboot'], 'INVALID_INPUT', /A bridge is a host interface name/);
    await refused(
      'other',
      ['nic', 'other', '2', '--attach', 'wifi'],
      'INVALID_INPUT',
      /--attach takes nat, none, bridged:BRIDGE or internal:NETWORK/,
    );
  });

  it('a bridge that does not exist: the machine is not started, with the reason and the fix', async () => {
    await ok(sb, ['nic', 'other', '2', '--attach', 'bridged:vmdnobr0']);
    await refused(
      'other',
      ['start', 'other'],
      'HOST_UNSUPPORTED',
      /Adapter 2 of other is bridged to vmdnobr0, but there is no bridge vmdnobr0 on this host: make it, e\.g\. `sudo ip link add vmdnobr0 type bridge/,
    );
    expect((await show('other')).status.state).toBe('stopped');
    expect(await ok(sb, ['nic', 'other', '2', '--remove'])).toMatch(/Removed Adapter 2 of other/);
  });

  it('a forward whose host port is taken at start: named, and the machine is not started', async () => {
    // Saved while the port was free; a listener takes it before the start (a clone's copy of a rule does this).
    const port = await freePort();
    await ok(sb, ['portforward', 'other', 'add', 'web', '--host-port', String(port), '--guest-port', '80']);
    const taker = net.createServer();
    await new Promise<void>((resolve) => taker.listen({ host: '127.0.0.1', port }, resolve));
    try {
      await refused(
        'other',
        ['start', 'other'],
        'ALREADY_EXISTS',
        new RegExp(`Host port ${port} is already in use on 127\\.0\\.0\\.1 \\(rule "web" of adapter 1 of other, which was not started\\)`),
      );
      expect((await show('other')).status.state).toBe('stopped');
    } finally {
      taker.close();
    }
  });
});

describe('NAT with the demo guest', () => {
  it('gets an address by DHCP and fetches a page from the host', async () => {
    await ok(sb, ['wait', 'nw', '--text', PROMPT, '--timeout', '60']);
    await guest(
      'nw',
      'for i in $(seq 30); do ip -4 addr show eth0 | grep -q 10.0.2.15 && break; sleep 1; done; ip -4 addr show eth0',
      /inet 10\.0\.2\.15\/24/,
    );
    await guest('nw', `timeout 5 wget -q -O - http://10.0.2.2:${serverPort}/`, new RegExp(PAGE));
  });

  it('a port forward added while the guest runs reaches its httpd; removed, the port closes', async () => {
    await guest(
      'nw',
      `mkdir -p /tmp/www && echo ${GUEST_PAGE.replace('-by-', "-''by-")} > /tmp/www/index.html && httpd -p 80 -h /tmp/www && echo httpd''up`,
      /httpdup/,
    );
    const port = await freePort();
    expect(await fetchText(port)).toBe('ECONNREFUSED');
    const added = await ok(sb, ['portforward', 'nw', 'add', 'web', '--host-port', String(port), '--guest-port', '80']);
    expect(added).toMatch(new RegExp(`Added rule "web" to Adapter 1 of nw: tcp 127\\.0\\.0\\.1:${port} → guest port 80 \\(live\\)`));
    expect(await fetchText(port)).toBe(`${GUEST_PAGE}\n`);
    const listed = JSON.parse(await ok(sb, ['portforward', 'nw', 'list', '--json'])) as Array<{ name: string; hostPort: number }>;
    expect(listed).toEqual([expect.objectContaining({ adapter: 1, name: 'web', hostPort: port, guestPort: 80, protocol: 'tcp' })]);
    // The same host port twice, even under another name, is refused.
    await refused(
      'nw',
      ['portforward', 'nw', 'add', 'web2', '--host-port', String(port), '--guest-port', '81'],
      'ALREADY_EXISTS',
      /Rule "web" of nw already forwards TCP host port/,
    );
    expect(await ok(sb, ['portforward', 'nw', 'remove', 'web'])).toMatch(/Removed rule "web" from Adapter 1 of nw \(live\)/);
    expect(await fetchText(port)).toBe('ECONNREFUSED');
    expect(await ok(sb, ['portforward', 'nw', 'list'])).toMatch(/nw has no port-forwarding rules/);
  });

  it('cable unplugged: the fetch fails; plugged in: it works again', async () => {
    expect(await ok(sb, ['nic', 'nw', '1', '--cable', 'off'])).toMatch(/Adapter 1 of nw: .* NAT \(cable unplugged\) \(live\)/);
    expect((await show('nw')).config.nics[0]?.cable).toBe(false);
    await guest('nw', `timeout 3 wget -q -O - http://10.0.2.2:${serverPort}/ || echo fetch''failed`, /fetchfailed/);
    expect(await ok(sb, ['nic', 'nw', '1', '--cable', 'on'])).toMatch(/\(live\)/);
    await guest('nw', `timeout 5 wget -q -O - http://10.0.2.2:${serverPort}/`, new RegExp(PAGE));
  });

  it('attachment changes of a running machine wait for its next start, with a warning', async () => {
    const r = await vmdesk(sb, ['nic', 'nw', '2', '--attach', 'none', '--model', 'e1000']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: Adapter 2: the new adapter applies at the next start of nw/);
    expect(await ok(sb, ['nic', 'nw'])).toMatch(/Adapter 2: e1000 52:54:00:[0-9a-f:]{8} not attached/);
    const host = JSON.parse(await ok(sb, ['network', 'host', '--json'])) as { bridgeHelper: { problems: string[] } };
    expect(Array.isArray(host.bridgeHelper.problems)).toBe(true);
  });
});
