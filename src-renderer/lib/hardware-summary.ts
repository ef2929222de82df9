import type { MachineConfig } from '../../src-main/api/machine-config';
import { OS_PRESETS, formatMiB } from './machine-info';
import { nicRows } from './network-input';

export interface SummarySection {
  title: string;
  rows: { label: string; value: string }[];
}

const BOOT_LABELS = { disk: 'Hard disk', cdrom: 'Optical', network: 'Network' } as const;

/** The details pane's hardware summary, one section per device class (as VirtualBox shows it). */
export function hardwareSummary(c: MachineConfig): SummarySection[] {
  return [
    {
      title: 'General',
      rows: [
        { label: 'Name', value: c.name },
        { label: 'Operating system', value: OS_PRESETS[c.osType].label },
      ],
    },
    {
      title: 'System',
      rows: [
        { label: 'Base memory', value: formatMiB(c.memoryMiB) },
        { label: 'Processors', value: String(c.cpus) },
        { label: 'Firmware', value: c.firmware === 'uefi' ? 'UEFI' : 'BIOS' },
        { label: 'Boot order', value: c.bootOrder.map((d) => BOOT_LABELS[d]).join(', ') },
      ],
    },
    { title: 'Display', rows: [{ label: 'Adapter', value: c.display.adapter === 'none' ? 'None (headless)' : c.display.adapter }] },
    {
      title: 'Storage',
      rows: [
        ...c.disks.map((d) => ({
          label: `Disk ${d.id.replace('disk', '')} (${d.bus})`,
          value: `${d.file} [${d.format}${d.readOnly ? ', read-only' : ''}]`,
        })),
        ...(c.disks.length === 0 ? [{ label: 'Disks', value: 'None' }] : []),
        { label: 'CD-ROM', value: c.cdrom ? (c.cdrom.file ?? 'Empty') : 'None' },
        ...(c.kernelBoot
          ? [
              { label: 'Kernel', value: c.kernelBoot.kernel },
              ...(c.kernelBoot.initrd ? [{ label: 'Initrd', value: c.kernelBoot.initrd }] : []),
              ...(c.kernelBoot.cmdline ? [{ label: 'Command line', value: c.kernelBoot.cmdline }] : []),
            ]
          : []),
      ],
    },
    { title: 'Network', rows: c.nics.length === 0 ? [{ label: 'Adapters', value: 'None' }] : nicRows(c) },
    { title: 'Serial port', rows: [{ label: 'Port 1', value: c.serial.enabled ? 'Enabled (console)' : 'Disabled' }] },
  ];
}
