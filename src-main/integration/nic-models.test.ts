// The emulated NICs for old guests and UDP port forwards, with real traffic: a demo guest on an Intel
// e1000 and one on a Realtek rtl8139 each get their NAT address by DHCP and fetch a page from a server
// on the host; a UDP forward added live delivers the host's datagrams into the guest (counted by the
// guest's own kernel), and none arrive before it is added or after it is removed.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, guestSays, makeSandbox, ok, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
const PAGE = 'page-for-an-old-nic';
let sb: Sandbox;
let server: http.Server;
let serverPort: number;

const MODELS = [
  { name: 'intel', model: 'e1000', driver: /^driver=e1000$/ },
  // QEMU's rtl8139 is a RTL8139C+: Linux binds 8139cp to it, or 8139too.
  { name: 'realtek', model: 'rtl8139', driver: /^driver=8139(cp|too)$/ },
];

beforeAll(async () => {
  sb = makeSandbox();
  server = http.createServer((_req, res) => res.end(`${PAGE}\n`));
  serverPort = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  for (const m of MODELS) {
    await ok(sb, ['create', m.name, '--demo', '--memory', '128']);
    await ok(sb, ['nic', m.name, '1', '--model', m.model]);
  }
  await Promise.all(MODELS.map((m) => ok(sb, ['start', m.name])));
});
afterAll(async () => {
  server.close();
  await sb.cleanup();
});

/** Datagrams that reached the guest's UDP stack for a port nothing listens on (Udp NoPorts). */
async function udpNoPorts(name: string): Promise<number> {
  const said = await guestSays(
    sb,
    name,
    `awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "NoPorts") c = i; h = 1 } else print "noports=" $c }' /proc/net/snmp`,
    /noports=\d+/,
    30,
  );
  return Number(said.slice('noports='.length));
}

async function sendUdp(port: number, count: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (let i = 0; i < count; i++)
    await new Promise<void>((resolve, reject) => socket.send(`datagram-${i}`, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  socket.close();
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

describe('e1000 and rtl8139 adapters', () => {
  for (const m of MODELS) {
    it(`${m.model}: the guest drives it, gets 10.0.2.15 by DHCP and fetches a page from the host`, async () => {
      expect(await ok(sb, ['nic', m.name])).toMatch(new RegExp(`Adapter 1: ${m.model} `));
      await ok(sb, ['wait', m.name, '--text', PROMPT, '--timeout', '120']);
      // dri''ver: the typed line's echo does not match, only the answer.
      const driver = await guestSays(
        sb,
        m.name,
        "echo dri''ver=$(basename $(readlink /sys/class/net/eth0/device/driver))",
        /driver=\w+/,
        30,
      );
      expect(driver).toMatch(m.driver);
      await guestSays(
        sb,
        m.name,
        'for i in $(seq 60); do ip -4 addr show eth0 | grep -q 10.0.2.15 && break; sleep 1; done; ip -4 addr show eth0',
        /inet 10\.0\.2\.15\/24/,
        90,
      );
      await guestSays(sb, m.name, `wget -q -O - http://10.0.2.2:${serverPort}/ | sed 's/^/got:/'`, `got:${PAGE}`, 30);
    });
  }
});

describe('UDP port forwarding', () => {
  it('delivers datagrams into the guest only while the rule exists (added and removed live)', async () => {
    const port = await freeUdpPort();
    const before = await udpNoPorts('intel');
    await sendUdp(port, 5);
    // Without the rule nothing reaches the guest (a later count would show them otherwise).
    const added = await ok(sb, [
      'portforward',
      'intel',
      'add',
      'udp',
      '--protocol',
      'udp',
      '--host-port',
      String(port),
      '--guest-port',
      '9999',
    ]);
    expect(added).toMatch(new RegExp(`udp 127\\.0\\.0\\.1:${port} → guest port 9999 \\(live\\)`));
    // (A stray datagram of the guest's own may add one; five from the host would add five.)
    expect(await udpNoPorts('intel')).toBeLessThan(before + 5);
    await sendUdp(port, 5);
    const through = await eventually(
      () => udpNoPorts('intel'),
      (n) => n >= before + 5,
      30_000,
    );
    expect(through - before).toBeGreaterThanOrEqual(5);
    await ok(sb, ['portforward', 'intel', 'remove', 'udp']);
    await sendUdp(port, 5);
    expect(await udpNoPorts('intel')).toBeLessThan(through + 5);
  });
});
