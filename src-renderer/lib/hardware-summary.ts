// No schema here (nor in what it imports): the details pane shows it in the first load, which zod stays out of.
import type { MachineConfig, NIC_MODELS, NicConfig } from '../../src-main/api/machine-config';
import { t } from '../i18n';
import { BOOT_DEVICE_LABELS, DISPLAY_ADAPTER_LABELS, OS_LABELS, formatMiB } from './machine-info';

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

/** The adapter models by their makers' names: the same in every language. */
const NIC_MODEL_SHORT: Record<(typeof NIC_MODELS)[number], string> = {
  'virtio-net-pci': 'virtio-net',
  e1000: 'Intel e1000',
  rtl8139: 'Realtek rtl8139',
};

export const adapterLabel = (slot: number): string => t('settings.network.adapter', { number: slot + 1 });
const slotOf = (nic: NicConfig): number => Number(nic.id.replace('net', ''));

/** "virtio-net, NAT, 2 forwards", "Intel e1000, Internal 'lab'", "virtio-net, Bridged br0, cable unplugged". */
export function nicSummary(n: NicConfig): string {
  const a = n.attachment;
  const parts = [NIC_MODEL_SHORT[n.model]];
  if (a.type === 'nat') {
    const k = a.portForwards.length;
    parts.push(k === 0 ? t('machine.network.nat') : t('settings.network.summary.natForwardCount', { n: k }, k));
  } else if (a.type === 'bridged') parts.push(t('settings.network.summary.bridged', { bridge: a.bridge }));
  else if (a.type === 'internal') parts.push(t('settings.network.summary.internal', { network: a.network }));
  else parts.push(t('machine.network.none'));
  if (!n.cable) parts.push(t('settings.network.summary.unplugged'));
  return parts.join(', ');
}

export const nicRows = (c: MachineConfig): { label: string; value: string }[] =>
  [...c.nics].sort((a, b) => slotOf(a) - slotOf(b)).map((n) => ({ label: adapterLabel(slotOf(n)), value: nicSummary(n) }));
