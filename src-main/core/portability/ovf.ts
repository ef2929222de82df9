/**
 * OVF descriptors (DMTF DSP0243, version 1.0 as VirtualBox and VMware write it): parsed into the
 * little VMDesk needs (name, OS family, CPUs, memory, disks, NICs, firmware) and written so that
 * VirtualBox's OVF reader accepts it. Settings OVF cannot express (virtio disk bus, direct kernel
 * boot) travel in an optional `vmdesk:MachineSection` that other readers skip.
 *
 * ovf-parse.ts reads, ovf-write.ts writes, ovf-names.ts maps OVF's vocabulary (units, OS ids,
 * formats, NIC types), ovf-types.ts holds the shapes both sides share.
 */
export { parseOvf } from './ovf-parse.js';
export { buildOvf } from './ovf-write.js';
export { allocationUnitBytes, imageFormatFromUri, machineNameFrom, osFamily } from './ovf-names.js';
export * from './ovf-types.js';
