// Every boot source against real QEMU: ISO (BIOS and UEFI), third-party images from Debian's
// packages, network boot through the iPXE option ROM, and imported or attached disk images.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDemoGuest, DEMO_CMDLINE, DEMO_PROMPT, type DemoGuestFiles } from '../core/demo/demo-guest.js';
import { debianFile, eventually, makeSandbox, ok, pngHasContent, vgaText, type Sandbox } from './harness.js';

let sb: Sandbox;
let demo: DemoGuestFiles;
let scratch: string;

beforeAll(async () => {
  sb = makeSandbox();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-boot-'));
  const found = await findDemoGuest();
  if (!found) throw new Error('the demo guest should have been built by the global setup');
  demo = found;
});
afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true });
  await sb.cleanup();
});

async function uuidOf(name: string): Promise<string> {
  return (JSON.parse(await ok(sb, ['show', name, '--json'])) as { uuid: string }).uuid;
}

describe('boot sources', () => {
  it('boots an ISO image (the demo guest as a GRUB CD) with SeaBIOS', async () => {
    await ok(sb, ['create', 'iso-bios', '--iso', demo.iso, '--memory', '256']);
    await ok(sb, ['start', 'iso-bios']);
    await ok(sb, ['wait', 'iso-bios', '--text', DEMO_PROMPT, '--timeout', '120']);
    await ok(sb, ['stop', 'iso-bios']);
  });

  it('boots the same ISO with UEFI (OVMF), with a per-VM copy of the variables', async () => {
    // GRUB 2.06's EFI loader runs out of memory below ~384 MiB with OVMF: 512 as for any UEFI guest.
    await ok(sb, ['create', 'iso-uefi', '--iso', demo.iso, '--memory', '512', '--firmware', 'uefi']);
    const dir = (JSON.parse(await ok(sb, ['show', 'iso-uefi', '--json'])) as { dir: string }).dir;
    expect(fs.statSync(path.join(dir, 'nvram.fd')).size).toBeGreaterThan(0);
    await ok(sb, ['start', 'iso-uefi']);
    await ok(sb, ['wait', 'iso-uefi', '--text', DEMO_PROMPT, '--timeout', '100']);
    // GRUB handed the kernel OVMF's framebuffer: tty1 is on the screen, not only on the serial port.
    const png = path.join(sb.home, 'uefi.png');
    await ok(sb, ['screenshot', 'iso-uefi', png]);
    expect(pngHasContent(png)).toBe(true);
    await ok(sb, ['stop', 'iso-uefi', '--force']);
  });

  it("boots Debian's GRUB rescue CD (a third-party image) to the GRUB shell", async () => {
    const iso = debianFile('grub-rescue-pc', 'usr/lib/grub-rescue/grub-rescue-cdrom.iso');
    await ok(sb, ['create', 'grub-rescue', '--iso', iso, '--memory', '128', '--network', 'none']);
    await ok(sb, ['start', 'grub-rescue']);
    const uuid = await uuidOf('grub-rescue');
    const screen = await eventually(
      () => vgaText(sb, uuid),
      (t) => t.includes('GNU GRUB'),
      60_000,
    );
    expect(screen).toContain('GNU GRUB');
    await ok(sb, ['stop', 'grub-rescue', '--force']);
  });

  it("boots Debian's iPXE ISO (a third-party image)", async () => {
    const iso = debianFile('ipxe', 'usr/lib/ipxe/ipxe.iso');
    await ok(sb, ['create', 'ipxe-iso', '--iso', iso, '--memory', '128', '--network', 'none']);
    await ok(sb, ['start', 'ipxe-iso']);
    const uuid = await uuidOf('ipxe-iso');
    const screen = await eventually(
      () => vgaText(sb, uuid),
      (t) => t.includes('iPXE'),
      60_000,
    );
    expect(screen).toContain('iPXE');
    await ok(sb, ['stop', 'ipxe-iso', '--force']);
  });

  it("network boot runs the NIC's iPXE option ROM, which asks the NAT network for an address", async () => {
    await ok(sb, ['create', 'pxe', '--network-boot', '--boot', 'network', '--memory', '128']);
    await ok(sb, ['start', 'pxe']);
    const uuid = await uuidOf('pxe');
    const screen = await eventually(
      () => vgaText(sb, uuid),
      (t) => /iPXE/.test(t) && /net0/.test(t),
      60_000,
    );
    expect(screen).toMatch(/iPXE/);
    expect(screen).toMatch(/net0/);
    await ok(sb, ['stop', 'pxe', '--force']);
  });

  it('imports vmdk, vdi and vhdx images (converted to qcow2) and attaches one in place', async () => {
    const raw = path.join(scratch, 'data.raw');
    const marker = 'VMDESK-IMPORT-MARKER-0123456789';
    const buf = Buffer.alloc(16 * 1024 * 1024);
    buf.write(marker, 0);
    fs.writeFileSync(raw, buf);
    for (const format of ['vmdk', 'vdi', 'vhdx'] as const) {
      const image = path.join(scratch, `data.${format}`);
      const r = spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', format, raw, image]);
      expect(r.status).toBe(0);
      const before = fs.readFileSync(image);
      const name = `imp-${format}`;
      await ok(sb, [
        'create',
        name,
        '--import-disk',
        image,
        '--kernel',
        demo.kernel,
        '--initrd',
        demo.initrd,
        '--append',
        DEMO_CMDLINE,
        '--memory',
        '256',
        '--network',
        'none',
      ]);
      const shown = JSON.parse(await ok(sb, ['show', name, '--json'])) as { config: { disks: Array<{ file: string; format: string }> } };
      expect(shown.config.disks[0]).toMatchObject({ file: 'disks/disk0.qcow2', format: 'qcow2' });
      expect(fs.readFileSync(image).equals(before)).toBe(true);
      if (format !== 'vmdk') continue;
      // Boot one of them and read the marker from the guest's first disk.
      await ok(sb, ['start', name]);
      await ok(sb, ['wait', name, '--text', DEMO_PROMPT, '--timeout', '120']);
      await ok(sb, ['send', name, 'head -c 31 /dev/vda; echo\\n']);
      await ok(sb, ['wait', name, '--text', `\n${marker}`, '--timeout', '30']);
      await ok(sb, ['stop', name, '--force']);
    }
    await ok(sb, ['create', 'attached', '--attach-disk', path.join(scratch, 'data.vdi'), '--memory', '64', '--network', 'none']);
    const attached = JSON.parse(await ok(sb, ['show', 'attached', '--json'])) as {
      config: { disks: Array<{ file: string; format: string }> };
    };
    expect(attached.config.disks[0]).toMatchObject({ file: path.join(scratch, 'data.vdi'), format: 'vdi' });
    await ok(sb, ['delete', 'attached']);
    expect(fs.existsSync(path.join(scratch, 'data.vdi'))).toBe(true);
  });
});
