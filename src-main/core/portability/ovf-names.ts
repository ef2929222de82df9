/**
 * OVF's vocabulary as VMDesk maps it: allocation units, CIM and vendor OS names, disk format URIs,
 * NIC subtypes, and machine names made from an appliance's name.
 */
import { MAX_NAME_LENGTH, machineNameSchema, type NicConfig } from '../../api/machine-config.js';
import type { ImageFormat, OsFamily } from './ovf-types.js';

/** OVF allocation units: `byte`, `byte * 2^20`, `byte * 1024`, and the names VirtualBox and Hyper-V write. */
export function allocationUnitBytes(units: string | undefined): number | null {
  const u = (units ?? '').trim();
  if (u === '') return null;
  const named: Record<string, number> = {
    byte: 1,
    bytes: 1,
    kilobytes: 2 ** 10,
    kb: 2 ** 10,
    megabytes: 2 ** 20,
    mb: 2 ** 20,
    gigabytes: 2 ** 30,
    gb: 2 ** 30,
    terabytes: 2 ** 40,
    tb: 2 ** 40,
  };
  const byName = named[u.toLowerCase()];
  if (byName) return byName;
  const m = /^byte\s*\*\s*(\d+)\s*(?:\^\s*(\d+))?$/i.exec(u);
  if (!m) return null;
  const value = Number(m[2] !== undefined ? Number(m[1]) ** Number(m[2]) : Number(m[1]));
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

// CIM_OperatingSystem OSType values (DSP0243 refers to CIM_OperatingSystem.mof).
const CIM_WINDOWS = new Set([
  14, 15, 16, 17, 18, 19, 58, 63, 67, 69, 70, 71, 72, 73, 74, 75, 76, 77, 103, 105, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120,
]);
const CIM_BSD = new Set([41, 42, 43, 65, 78]);
const CIM_LINUX = new Set([36, 79, 80, 82, 83, 84, 85, 86, 87, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 106, 107, 108, 109]);

/** The OS family, from VirtualBox's or VMware's OS name when given, else from the CIM id. */
export function osFamily(cimId: number | null, names: string[]): OsFamily {
  const joined = names.join(' ');
  if (/win/i.test(joined)) return 'windows';
  if (/bsd/i.test(joined)) return 'bsd';
  if (/linux|debian|ubuntu|fedora|cent ?os|rhel|red ?hat|suse|sles|oracle|mandriva|gentoo|arch|turbo|mint|alma|rocky/i.test(joined))
    return 'linux';
  if (cimId !== null) {
    if (CIM_WINDOWS.has(cimId)) return 'windows';
    if (CIM_BSD.has(cimId)) return 'bsd';
    if (CIM_LINUX.has(cimId)) return 'linux';
  }
  return 'other';
}

/** CIM OS ids and VirtualBox OS type names written on export. */
export const EXPORT_OS: Record<OsFamily, { cim: number; vbox: string }> = {
  linux: { cim: 101, vbox: 'Linux_64' },
  windows: { cim: 120, vbox: 'Windows10_64' },
  bsd: { cim: 78, vbox: 'FreeBSD_64' },
  other: { cim: 102, vbox: 'Other_64' },
};

/** The disk image format behind an OVF `ovf:format` URI. */
export function imageFormatFromUri(uri: string): ImageFormat | null {
  const u = uri.toLowerCase();
  if (u.includes('vmdk')) return 'vmdk';
  if (u.includes('137171') || /\bvhd\b/.test(u)) return 'vpc';
  if (u.includes('vdi')) return 'vdi';
  if (u.includes('qcow')) return 'qcow2';
  if (u.includes('raw')) return 'raw';
  return null;
}

/** A VM name made from an appliance's name: invalid characters become '-', cut to the maximum length. */
export function machineNameFrom(raw: string): string {
  let name = raw
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}\p{M} ._+()-]/gu, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .slice(0, MAX_NAME_LENGTH)
    .trimEnd();
  if (!machineNameSchema.safeParse(name).success) name = 'imported';
  return name;
}

/** The NIC model for an Ethernet item's subtype. */
export function nicModel(subType: string): NicConfig['model'] {
  const s = subType.toLowerCase();
  if (s.includes('virtio')) return 'virtio-net-pci';
  if (s.includes('8139')) return 'rtl8139';
  // E1000, E1000e, VmxNet3, PCNet32...: every common guest has an e1000 driver.
  return 'e1000';
}

/** The Ethernet item subtype written on export. */
export const NIC_SUBTYPE: Record<NicConfig['model'], string> = { 'virtio-net-pci': 'virtio', e1000: 'E1000', rtl8139: 'E1000' };
