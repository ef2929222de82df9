// The demo guest driven through the real CLI: create, start, console, pause/resume, reset, ACPI shutdown.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, eventually, guestSays, makeSandbox, ok, pngHasContent, vmdesk, type Sandbox } from './harness.js';

const PROMPT = 'vmdesk-demo# ';
let sb: Sandbox;

beforeAll(() => {
  sb = makeSandbox();
});
afterAll(async () => {
  await sb.cleanup();
});

async function state(name: string): Promise<string> {
  return (JSON.parse(await ok(sb, ['show', name, '--json'])) as { status: { state: string } }).status.state;
}

describe('demo VM lifecycle through the CLI', () => {
  it('creates the demo VM in one step', async () => {
    const out = await ok(sb, ['create', 'demo', '--demo']);
    expect(out).toMatch(/^Created demo \([0-9a-f-]{36}\)/);
    const list = JSON.parse(await ok(sb, ['list', '--json'])) as Array<{
      config: { name: string; kernelBoot: unknown };
      status: { state: string };
    }>;
    expect(list).toHaveLength(1);
    expect(list[0]?.config.name).toBe('demo');
    expect(list[0]?.status.state).toBe('stopped');
    const kernel = (list[0]?.config.kernelBoot as { kernel: string } | null)?.kernel ?? '';
    expect(kernel).toMatch(/^boot\/vmlinu[xz]$/);
    expect(fs.existsSync(path.join(sb.home, 'machines', 'demo', kernel))).toBe(true);
  });

  it('starts, reaches the shell prompt and answers on the serial console', async () => {
    expect(await ok(sb, ['start', 'demo'])).toMatch(/demo is running \(TCG\)/);
    expect(await state('demo')).toBe('running');
    await ok(sb, ['wait', 'demo', '--text', PROMPT, '--timeout', '90']);
    await ok(sb, ['send', 'demo', 'echo $((6*7))\\n']);
    await ok(sb, ['wait', 'demo', '--text', '\n42', '--timeout', '30']);
    const log = await ok(sb, ['log', 'demo']);
    expect(log).toContain('echo $((6*7))');
    expect(log).toMatch(/\r?\n42\r?\n/);
  });

  it('formats its new empty disk with mke2fs, mounts it and writes a file', async () => {
    const script =
      'mke2fs -q /dev/vda && mount /dev/vda /mnt && echo disk-$((40+2)) > /mnt/f && umount /mnt && mount -o ro /dev/vda /mnt && cat /mnt/f && umount /mnt';
    await ok(sb, ['send', 'demo', `${script}\\n`]);
    await ok(sb, ['wait', 'demo', '--text', '\ndisk-42', '--timeout', '60']);
  });

  it('gets an address from the NAT network by DHCP (udhcpc)', async () => {
    const script = 'for i in $(seq 30); do ip -4 addr show eth0 | grep -q 10.0.2.15 && break; sleep 1; done; ip -4 addr show eth0';
    await ok(sb, ['send', 'demo', `${script}\\n`]);
    await ok(sb, ['wait', 'demo', '--text', 'inet 10.0.2.15/24', '--timeout', '60']);
  });

  it('fans the console out to several viewers, with scrollback for late joiners', async () => {
    const { uuid } = JSON.parse(await ok(sb, ['show', 'demo', '--json'])) as { uuid: string };
    const socketPath = path.join(sb.runtime, uuid, 'console.sock');
    const viewer = (): { text: () => string; socket: net.Socket } => {
      const socket = net.createConnection(socketPath);
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      return { text: () => text, socket };
    };
    const first = viewer();
    const second = viewer();
    // The late joiners' scrollback holds the earlier answer.
    for (const v of [first, second]) {
      expect(
        await eventually(
          () => Promise.resolve(v.text()),
          (t) => /\n42\r?\n/.test(t),
          15_000,
        ),
      ).toMatch(/\n42\r?\n/);
    }
    first.socket.write('echo fan-$((20+3))\r');
    const deadline = Date.now() + 30_000;
    while (!(first.text().includes('fan-23') && second.text().includes('fan-23')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(second.text()).toContain('fan-23');
    first.socket.destroy();
    second.socket.destroy();
  });

  it('vmdesk console types into the guest and Ctrl-] detaches', async () => {
    const child = spawn(process.execPath, [CLI, 'console', 'demo'], { env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Typed once the console is attached (it says so), not after a guessed delay.
    await eventually(
      () => Promise.resolve(err),
      (e) => e.includes('Press Ctrl-] to detach'),
      30_000,
    );
    child.stdin.write('echo console-$((7*6))\r');
    const deadline = Date.now() + 30_000;
    while (!out.includes('console-42') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('console-42');
    child.stdin.write(Buffer.from([0x1d]));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(err).toContain('Press Ctrl-] to detach');
    expect(err).toContain('Detached.');
  });

  it('refuses to start a running VM or delete it', async () => {
    const again = await vmdesk(sb, ['start', 'demo']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('demo is already running');
    const del = await vmdesk(sb, ['delete', 'demo']);
    expect(del.code).toBe(5);
    expect(del.stderr).toMatch(/demo is running: stop it before deleting it/);
  });

  it('pauses and resumes: a paused guest does not run', async () => {
    expect(await ok(sb, ['pause', 'demo'])).toContain('demo is paused');
    expect(await state('demo')).toBe('paused');
    await ok(sb, ['send', 'demo', 'echo resumed-$((100+23))\\n']);
    const waitWhilePaused = await vmdesk(sb, ['wait', 'demo', '--text', 'resumed-123', '--timeout', '2']);
    expect(waitWhilePaused.code).toBe(9);
    expect(await ok(sb, ['resume', 'demo'])).toContain('demo is running');
    await ok(sb, ['wait', 'demo', '--text', 'resumed-123', '--timeout', '30']);
  });

  it('takes a screenshot of the guest display', async () => {
    const file = path.join(sb.home, 'shot.png');
    await ok(sb, ['screenshot', 'demo', file]);
    expect(fs.readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    expect(pngHasContent(file)).toBe(true);
  });

  it('resets the guest, which boots again', async () => {
    await ok(sb, ['reset', 'demo']);
    await ok(sb, ['wait', 'demo', '--text', PROMPT, '--timeout', '90', '--from-now']);
    expect(await state('demo')).toBe('running');
  });

  it('shuts down through ACPI and reaches stopped', async () => {
    expect(await ok(sb, ['stop', 'demo', '--timeout', '60'])).toContain('demo is stopped');
    expect(await state('demo')).toBe('stopped');
    expect(fs.readdirSync(sb.runtime)).toEqual([]);
  });

  it('applies a changed setting at the next start: the guest sees 2 CPUs and 300 MiB; then powers off with --force', async () => {
    await ok(sb, ['modify', 'demo', '--memory', '300', '--cpus', '2']);
    await ok(sb, ['start', 'demo']);
    await ok(sb, ['wait', 'demo', '--text', PROMPT, '--timeout', '90']);
    // Read from this boot's answer only: serial.log also holds the earlier boots (1 CPU, 512 MiB).
    const seen = await guestSays(
      sb,
      'demo',
      "echo cpus=$(grep -c ^processor /proc/cpuinfo) memkb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)",
      /cpus=\d+ memkb=\d+/,
      30,
    );
    const [, cpus, memKiB] = /cpus=(\d+) memkb=(\d+)/.exec(seen) ?? [];
    expect(Number(cpus)).toBe(2);
    // 300 MiB less what firmware and the kernel keep: well above 200, never above 300 (512 before).
    expect(Number(memKiB)).toBeGreaterThan(200 * 1024);
    expect(Number(memKiB)).toBeLessThanOrEqual(300 * 1024);
    expect(await ok(sb, ['stop', 'demo', '--force'])).toContain('demo is stopped');
  });

  it('deletes the VM and its folder', async () => {
    expect(await ok(sb, ['delete', 'demo'])).toContain('Deleted demo');
    expect(fs.readdirSync(path.join(sb.home, 'machines'))).toEqual([]);
    expect(JSON.parse(await ok(sb, ['list', '--json']))).toEqual([]);
  });
});
