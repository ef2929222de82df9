/** Human output of the CLI; `--json` prints the same data as JSON instead. */
import type { HostCapabilities } from '../core/host/capabilities.js';
import type { MachineSummary } from '../core/core.js';
import type { MachineState, NicConfig } from '../api/machine-config.js';
import { coreText, formatNumber, t } from '../i18n/i18n.js';

/** A machine's state as the human output says it ("saved" and "broken" are the list's own). */
export function state(s: MachineState | 'saved' | 'broken'): string {
  return t(`cli.states.${s}`);
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join('  ')).join('\n');
}

const LIST_COLUMNS = ['name', 'state', 'cpus', 'memory', 'os', 'uuid'] as const;

export function formatList(machines: MachineSummary[]): string {
  if (machines.length === 0) return t('cli.format.noMachines');
  const rows = [LIST_COLUMNS.map((column) => t(`cli.format.listHeader.${column}`))];
  for (const m of machines) {
    if (!m.config) {
      rows.push([m.broken?.name ?? t('cli.format.unreadable', { dir: m.dir }), state('broken'), '-', '-', '-', m.uuid]);
      continue;
    }
    // Like VirtualBox's "Saved": stopped, and the next start resumes the guest.
    const shown = m.savedState && m.status.state === 'stopped' ? 'saved' : m.status.state;
    rows.push([m.config.name, state(shown), formatNumber(m.config.cpus), mib(m.config.memoryMiB), m.config.osType, m.uuid]);
  }
  return table(rows);
}

const mib = (n: number): string => t('cli.format.mib', { n: formatNumber(n) });

/**
 * "Label:  value" lines, the values in one column: at least 13 characters in, as the English
 * output has always been, further when a translation's label is longer.
 */
export function fields(rows: ReadonlyArray<readonly [label: string, value: string]>, width = fieldWidth(rows)): string[] {
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`);
}

function fieldWidth(rows: ReadonlyArray<readonly [label: string, value: string]>): number {
  return Math.max(12, ...rows.map(([label]) => label.length)) + 1;
}

export function formatMachine(m: MachineSummary): string {
  const c = m.config;
  if (!c) {
    const b = m.broken;
    return fields([
      [t('cli.format.name'), b?.name ?? '?'],
      [t('cli.format.uuid'), m.uuid],
      [
        t('cli.format.state'),
        t('cli.format.brokenState', { reason: coreText(b?.reason ?? m.error?.message ?? t('cli.format.unreadableReason')) }),
      ],
      [t('cli.format.folder'), m.dir],
      [t('cli.format.backup'), b?.backup ? t('cli.format.backupRestore', { file: b.backup, name: b.name }) : t('cli.format.backupNone')],
    ]).join('\n');
  }
  const stateText =
    state(m.status.state) + (m.status.reason ? ` (${coreText(m.status.reason)})` : '') + (m.savedState ? t('cli.format.savedState') : '');
  const rows: Array<[string, string]> = [
    [t('cli.format.name'), c.name],
    [t('cli.format.uuid'), c.uuid],
    [t('cli.format.state'), stateText],
    [t('cli.format.folder'), m.dir],
    [t('cli.format.osType'), c.osType],
    [t('cli.format.cpus'), formatNumber(c.cpus)],
    [t('cli.format.memory'), mib(c.memoryMiB)],
    [t('cli.format.firmware'), c.firmware],
    [t('cli.format.bootOrder'), c.bootOrder.join(', ')],
  ];
  for (const d of c.disks)
    rows.push([
      t('cli.format.disk', { id: d.id }),
      `${d.file} (${d.format}, ${d.bus}${d.readOnly ? `, ${t('cli.format.diskReadOnly')}` : ''})`,
    ]);
  if (c.cdrom) rows.push([t('cli.format.cdrom'), c.cdrom.file ?? t('cli.format.empty')]);
  if (c.kernelBoot) {
    rows.push([t('cli.format.kernel'), c.kernelBoot.kernel]);
    if (c.kernelBoot.initrd) rows.push([t('cli.format.initrd'), c.kernelBoot.initrd]);
    if (c.kernelBoot.cmdline) rows.push([t('cli.format.cmdline'), c.kernelBoot.cmdline]);
  }
  for (const n of c.nics) rows.push([t('cli.format.adapter', { n: Number(n.id.slice(3)) + 1 }), formatNic(n)]);
  rows.push([t('cli.format.display'), c.display.adapter], [t('cli.format.serial'), onOff(c.serial.enabled)]);
  if (m.status.accel) rows.push([t('cli.format.accel'), m.status.accel]);
  // The QEMU log's lines come between the fields and the notes, which stay in the fields' column.
  const notes: Array<[string, string]> = c.notes ? [[t('cli.format.notes'), c.notes]] : [];
  const width = fieldWidth([...rows, ...notes]);
  const lines = fields(rows, width);
  if (m.status.logTail) lines.push(t('cli.format.logTail'), m.status.logTail);
  lines.push(...fields(notes, width));
  return lines.join('\n');
}

const onOff = (on: boolean): string => t(on ? 'cli.format.on' : 'cli.format.off');
const yesNo = (yes: boolean): string => t(yes ? 'cli.format.yes' : 'cli.format.no');

export function formatHost(h: HostCapabilities): string {
  const kvm = h.accelerators.kvm.available
    ? t('cli.format.available')
    : t('cli.format.notAvailable', { reason: coreText(h.accelerators.kvm.reason ?? t('cli.format.unknown')) });
  return fields([
    [t('cli.format.hostQemu'), h.qemu ? `${h.qemu.binary} ${h.qemu.version}` : t('cli.format.qemuMissing')],
    [t('cli.format.hostKvm'), kvm],
    [t('cli.format.hostAccel'), `${h.preferredAccel ?? t('cli.format.none')}${h.preferredAccel === 'tcg' ? t('cli.format.tcgSlow') : ''}`],
    [t('cli.format.cpus'), formatNumber(h.cpus)],
    [t('cli.format.memory'), t('cli.format.hostFree', { total: formatNumber(h.memoryMiB), free: formatNumber(h.freeMemoryMiB) })],
    [t('cli.format.hostOvmf'), h.firmware.ovmfCode ?? t('cli.format.ovmfMissing')],
    [t('cli.format.hostSeabios'), yesNo(h.firmware.seabios)],
    [t('cli.format.hostIpxe'), yesNo(h.firmware.ipxe)],
  ]).join('\n');
}

/** One adapter on one line: "virtio-net-pci 52:54:00:12:34:56 NAT (2 port forwards)". */
export function formatNic(n: NicConfig): string {
  const a = n.attachment;
  const attachment =
    a.type === 'nat'
      ? a.portForwards.length > 0
        ? t('cli.format.portForwards', { count: a.portForwards.length })
        : t('cli.format.nat')
      : a.type === 'bridged'
        ? t('cli.format.bridged', { bridge: a.bridge })
        : a.type === 'internal'
          ? t('cli.format.internal', { network: a.network })
          : t('cli.format.notAttached');
  return `${n.model} ${n.mac} ${attachment}${n.cable ? '' : t('cli.format.cableUnplugged')}`;
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
