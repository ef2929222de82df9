import type { MachineConfig } from '../../src-main/api/machine-config';
import { t } from '../i18n';
import { OS_LABELS, formatMiB } from './machine-info';
import { nicRows } from './network-input';
import { BOOT_DEVICE_LABELS, DISPLAY_ADAPTER_LABELS } from './settings-input';

export interface SummarySection {
  title: string;
  rows: { label: string; value: string }[];
}

/** The details pane's hardware summary, one section per device class (as VirtualBox shows it). */
export function hardwareSummary(c: MachineConfig): SummarySection[] {
  return [
    {
      title: t('machine.summary.general'),
      rows: [
        { label: t('machine.summary.name'), value: c.name },
        { label: t('machine.summary.os'), value: OS_LABELS[c.osType] },
      ],
    },
    {
      title: t('machine.summary.system'),
      rows: [
        { label: t('machine.summary.memory'), value: formatMiB(c.memoryMiB) },
        { label: t('machine.summary.processors'), value: String(c.cpus) },
        { label: t('machine.summary.firmware'), value: t(`machine.firmware.${c.firmware}`) },
        { label: t('machine.summary.bootOrder'), value: c.bootOrder.map((d) => BOOT_DEVICE_LABELS[d]).join(', ') },
      ],
    },
    {
      title: t('machine.summary.display'),
      rows: [
        { label: t('machine.summary.adapter'), value: c.display.adapter === 'none' ? DISPLAY_ADAPTER_LABELS.none : c.display.adapter },
      ],
    },
    {
      title: t('machine.summary.storage'),
      rows: [
        ...c.disks.map((d) => ({
          label: t('machine.summary.disk', { number: d.id.replace('disk', ''), bus: d.bus }),
          value: t(d.readOnly ? 'machine.summary.diskFileReadOnly' : 'machine.summary.diskFile', { file: d.file, format: d.format }),
        })),
        ...(c.disks.length === 0 ? [{ label: t('machine.summary.disks'), value: t('machine.summary.none') }] : []),
        {
          label: t('machine.summary.cdrom'),
          value: c.cdrom ? (c.cdrom.file ?? t('machine.summary.cdromEmpty')) : t('machine.summary.none'),
        },
        ...(c.kernelBoot
          ? [
              { label: t('machine.summary.kernel'), value: c.kernelBoot.kernel },
              ...(c.kernelBoot.initrd ? [{ label: t('machine.summary.initrd'), value: c.kernelBoot.initrd }] : []),
              ...(c.kernelBoot.cmdline ? [{ label: t('machine.summary.cmdline'), value: c.kernelBoot.cmdline }] : []),
            ]
          : []),
      ],
    },
    {
      title: t('machine.summary.network'),
      rows: c.nics.length === 0 ? [{ label: t('machine.summary.adapters'), value: t('machine.summary.none') }] : nicRows(c),
    },
    {
      title: t('machine.summary.serial'),
      rows: [
        { label: t('machine.summary.port1'), value: c.serial.enabled ? t('machine.summary.serialOn') : t('machine.summary.serialOff') },
      ],
    },
  ];
}
