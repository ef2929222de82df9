/** What VMDesk reads from an OVF descriptor and what it writes into one (see ovf.ts). */
import type { DiskConfig, NicConfig, MachineConfig } from '../../api/machine-config.js';

export const NS = {
  ovf: 'http://schemas.dmtf.org/ovf/envelope/1',
  rasd: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData',
  vssd: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  vbox: 'http://www.virtualbox.org/ovf/machine',
  vmw: 'http://www.vmware.com/schema/ovf',
  vmdesk: 'https://github.com/vmdesk/ovf/1',
} as const;

export const VMDK_STREAM_URI = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';

export type OsFamily = MachineConfig['osType'];
export type ImageFormat = 'vmdk' | 'vpc' | 'vdi' | 'qcow2' | 'raw';

export interface OvfFile {
  id: string;
  href: string;
  size: number | null;
}

export interface OvfDisk {
  diskId: string;
  /** The file holding the image, or null for a new empty disk of `capacityBytes`. */
  file: OvfFile | null;
  format: ImageFormat;
  capacityBytes: number;
  bus: DiskConfig['bus'];
}

export interface OvfAppliance {
  name: string;
  osType: OsFamily;
  osDescription: string;
  cpus: number;
  memoryMiB: number;
  firmware: MachineConfig['firmware'];
  disks: OvfDisk[];
  nics: Array<NicConfig['model']>;
  /** Direct kernel boot, only from VMDesk's own section. */
  kernelBoot: { kernel: OvfFile; initrd: OvfFile | null; cmdline: string } | null;
  /** The AnnotationSection's text (VirtualBox's description). */
  annotation: string;
  files: OvfFile[];
  warnings: string[];
}

export interface ExportDisk {
  diskId: string;
  href: string;
  fileSize: number;
  capacityBytes: number;
  bus: DiskConfig['bus'];
}

export interface ExportInput {
  config: MachineConfig;
  disks: ExportDisk[];
  kernelBoot: { kernelHref: string; kernelSize: number; initrdHref: string | null; initrdSize: number | null; cmdline: string } | null;
}
