/** Human output of the CLI; `--json` prints the same data as JSON instead. */
import type { HostCapabilities } from '../core/host/capabilities.js';
import type { MachineSummary } from '../core/core.js';
import type { NicConfig } from '../api/machine-config.js';

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ')).join('\n');
}

export function formatList(machines: MachineSummary[]): string {
  if (machines.length === 0) return 'No machines. Create one with: vmdesk create NAME --demo';
  const rows = [['NAME', 'STATE', 'CPUS', 'MEMORY', 'OS', 'UUID']];
  for (const m of machines) {
    if (!m.config) {
      rows.push([m.broken?.name ?? `(unreadable: ${m.dir})`, 'broken', '-', '-', '-', m.uuid]);
      continue;
    }
    // Like VirtualBox's "Saved": stopped, and the next start resumes the guest.
    const state = m.savedState && m.status.state === 'stopped' ? 'saved' : m.status.state;
    rows.push([m.config.name, state, String(m.config.cpus), `${m.config.memoryMiB} MiB`, m.config.osType, m.uuid]);
  }
  return table(rows);
}

export function formatMachine(m: MachineSummary): string {
  const c = m.config;
  if (!c) {
    const b = m.broken;
    return [
      `Name:        ${b?.name ?? '?'}`,
      `UUID:        ${m.uuid}`,
      `State:       broken (${b?.reason ?? m.error?.message ?? 'unreadable'})`,
      `Folder:      ${m.dir}`,
      b?.backup
        ? `Backup:      ${b.backup} (restore it with: vmdesk repair ${b.name} --from-backup)`
        : 'Backup:      none usable (machine.json.bak is missing or invalid)',
    ].join('\n');
  }
  const lines = [
    `Name:        ${c.name}`,
    `UUID:        ${c.uuid}`,
    `State:       ${m.status.state}${m.status.reason ? ` (${m.status.reason})` : ''}${m.savedState ? ' (saved state: the next start resumes it)' : ''}`,
    `Folder:      ${m.dir}`,
    `OS type:     ${c.osType}`,
    `CPUs:        ${c.cpus}`,
    `Memory:      ${c.memoryMiB} MiB`,
    `Firmware:    ${c.firmware}`,
    `Boot order:  ${c.bootOrder.join(', ')}`,
  ];
  for (const d of c.disks) lines.push(`Disk ${d.id}:  ${d.file} (${d.format}, ${d.bus}${d.readOnly ? ', read-only' : ''})`);
  if (c.cdrom) lines.push(`CD-ROM:      ${c.cdrom.file ?? '(empty)'}`);
  if (c.kernelBoot) {
    lines.push(`Kernel:      ${c.kernelBoot.kernel}`);
    if (c.kernelBoot.initrd) lines.push(`Initrd:      ${c.kernelBoot.initrd}`);
    if (c.kernelBoot.cmdline) lines.push(`Cmdline:     ${c.kernelBoot.cmdline}`);
  }
  for (const n of c.nics) lines.push(`Adapter ${Number(n.id.slice(3)) + 1}:   ${formatNic(n)}`);
  lines.push(`Display:     ${c.display.adapter}`, `Serial:      ${c.serial.enabled ? 'on' : 'off'}`);
  if (m.status.accel) lines.push(`Accel:       ${m.status.accel}`);
  if (m.status.logTail) lines.push('Last QEMU log lines:', m.status.logTail);
  if (c.notes) lines.push(`Notes:       ${c.notes}`);
  return lines.join('\n');
}

export function formatHost(h: HostCapabilities): string {
  const kvm = h.accelerators.kvm.available ? 'available' : `not available (${h.accelerators.kvm.reason ?? 'unknown'})`;
  return [
    `QEMU:        ${h.qemu ? `${h.qemu.binary} ${h.qemu.version}` : 'not installed (sudo apt-get install qemu-system-x86 qemu-utils)'}`,
    `KVM:         ${kvm}`,
    `Accelerator: ${h.preferredAccel ?? 'none'}${h.preferredAccel === 'tcg' ? ' (software emulation: guests run much slower)' : ''}`,
    `CPUs:        ${h.cpus}`,
    `Memory:      ${h.memoryMiB} MiB (${h.freeMemoryMiB} MiB free)`,
    `UEFI (OVMF): ${h.firmware.ovmfCode ?? 'not installed (sudo apt-get install ovmf)'}`,
    `SeaBIOS:     ${h.firmware.seabios ? 'yes' : 'no'}`,
    `iPXE:        ${h.firmware.ipxe ? 'yes' : 'no'}`,
  ].join('\n');
}

/** One adapter on one line: "virtio-net-pci 52:54:00:12:34:56 NAT (2 port forwards)". */
export function formatNic(n: NicConfig): string {
  const a = n.attachment;
  const attachment =
    a.type === 'nat'
      ? `NAT${a.portForwards.length > 0 ? ` (${a.portForwards.length} port forward${a.portForwards.length === 1 ? '' : 's'})` : ''}`
      : a.type === 'bridged'
        ? `bridged to ${a.bridge}`
        : a.type === 'internal'
          ? `internal network ${a.network}`
          : 'not attached';
  return `${n.model} ${n.mac} ${attachment}${n.cable ? '' : ' (cable unplugged)'}`;
}

/**
 * A message for the terminal, when it may quote what a user or a file said: control characters
 * and bidirectional overrides (which could rewrite the screen or disguise the text) are shown
 * escaped, and each line is cut at `maxLine` characters, so an error stays one readable line.
 */
export function printable(text: string, maxLine = 400): string {
  return text
    .split('\n')
    .map((line) => {
      const chars = [
        ...line.replace(
          /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        ),
      ];
      return chars.length > maxLine ? `${chars.slice(0, maxLine).join('')}…` : chars.join('');
    })
    .join('\n');
}
