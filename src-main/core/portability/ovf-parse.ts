/**
 * Reading an OVF descriptor, section by section: References, DiskSection, the one VirtualSystem
 * (OS, hardware items, firmware, VMDesk's own section). Errors say what is wrong; what VMDesk
 * ignores becomes a warning.
 *
 * XML is parsed with fast-xml-parser: pure JavaScript, no native code, never fetches external
 * entities; a DOCTYPE is refused before parsing, so entity expansion attacks cannot start.
 */
import { XMLParser } from 'fast-xml-parser';
import { VmdeskError } from '../../api/errors.js';
import { MAX_CPUS, MAX_MEMORY_MIB, MIN_MEMORY_MIB } from '../../api/machine-config.js';
import type { DiskConfig, NicConfig, MachineConfig } from '../../api/machine-config.js';
import { allocationUnitBytes, imageFormatFromUri, machineNameFrom, nicModel, osFamily } from './ovf-names.js';
import type { ImageFormat, OsFamily, OvfAppliance, OvfDisk, OvfFile } from './ovf-types.js';

/** The longest notes a machine may have (machine-config's notes). */
const MAX_NOTES_LENGTH = 10_000;

const ARRAYS = new Set(['File', 'Disk', 'Item', 'StorageItem', 'EthernetPortItem', 'Network', 'VirtualSystem', 'Config', 'DiskBus']);

type Node = Record<string, unknown>;
type DiskDef = Omit<OvfDisk, 'diskId' | 'bus'>;

function parser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    // Decodes numeric character references (&#233;, &#10;) too, as every XML reader must: VMware
    // writes them, and VMDesk's own writer uses them for whitespace that would not survive.
    htmlEntities: true,
    isArray: (name) => ARRAYS.has(name),
  });
}

/** A value from the descriptor quoted in a message: cut short, whatever its length. */
function shown(value: string | undefined): string {
  const v = value ?? '';
  return v.length > 120 ? `${v.slice(0, 120)}…` : v;
}

function bad(message: string): VmdeskError {
  return new VmdeskError('INVALID_INPUT', `Invalid OVF descriptor: ${message}`);
}

function node(v: unknown): Node | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : undefined;
}

function list(v: unknown): Node[] {
  if (Array.isArray(v)) return v.map(node).filter((n): n is Node => n !== undefined);
  const n = node(v);
  return n ? [n] : [];
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  const n = node(v);
  if (n && typeof n['#text'] === 'string') return n['#text'];
  if (n && typeof n['#text'] === 'number') return String(n['#text']);
  return '';
}

function attr(n: Node | undefined, name: string): string | undefined {
  const v = n?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
}

function wholeNumber(value: string, what: string): number {
  if (!/^\d+$/.test(value.trim())) throw bad(`${what} "${value.slice(0, 40)}" is not a whole number`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw bad(`${what} ${value.slice(0, 40)} is too large`);
  return n;
}

/** Parse an OVF descriptor. Errors say what is wrong; what VMDesk ignores becomes a warning. */
export function parseOvf(xml: string): OvfAppliance {
  const envelope = readEnvelope(xml);
  const warnings: string[] = [];
  const files = readReferences(envelope);
  const diskDefs = readDiskSection(envelope, files);
  const vs = theVirtualSystem(envelope);
  const vboxMachine = node(vs.Machine);
  const vmdesk = node(vs.MachineSection);
  const rawName = text(vs.Name) || attr(vboxMachine, 'name') || attr(vs, 'id') || 'imported';
  const os = readOs(vs, vboxMachine);
  const hw = node(vs.VirtualHardwareSection);
  if (!hw) throw bad('there is no VirtualHardwareSection');
  const hardware = readHardware(hw, diskDefs, vmdeskBuses(vmdesk), warnings);
  return {
    name: machineNameFrom(rawName),
    osType: os.family,
    osDescription: os.names[0] ?? '',
    cpus: hardware.cpus,
    memoryMiB: hardware.memoryMiB,
    firmware: readFirmware(hw, vboxMachine, vmdesk),
    disks: hardware.disks,
    nics: hardware.nics,
    kernelBoot: readKernelBoot(vmdesk, files),
    annotation: text(node(vs.AnnotationSection)?.Annotation).slice(0, MAX_NOTES_LENGTH),
    files: [...files.values()],
    warnings,
  };
}

function readEnvelope(xml: string): Node {
  if (/<!DOCTYPE/i.test(xml)) throw bad('a DOCTYPE is not allowed in an OVF descriptor');
  let doc: Node;
  try {
    doc = parser().parse(xml, true) as Node;
  } catch (err) {
    // The parser's message may quote the offending text: a line of it, cut short.
    throw bad(`not well-formed XML (${((err as Error).message.split('\n')[0] ?? '').slice(0, 200)})`);
  }
  const envelope = node(doc.Envelope);
  if (!envelope) throw bad('the root element must be Envelope');
  return envelope;
}

/** References: the files of the package, by id. Compressed or chunked files are refused. */
function readReferences(envelope: Node): Map<string, OvfFile> {
  const files = new Map<string, OvfFile>();
  for (const f of list(node(envelope.References)?.File)) {
    const id = attr(f, 'id');
    const href = attr(f, 'href');
    if (!id || !href) throw bad('a References/File has no ovf:id or ovf:href');
    if (attr(f, 'compression'))
      throw new VmdeskError(
        'INVALID_INPUT',
        `The OVF file ${shown(href)} is compressed (${shown(attr(f, 'compression'))}), which VMDesk does not support`,
      );
    if (attr(f, 'chunkSize'))
      throw new VmdeskError('INVALID_INPUT', `The OVF file ${shown(href)} is split in chunks, which VMDesk does not support`);
    const size = attr(f, 'size');
    files.set(id, { id, href, size: size !== undefined ? wholeNumber(size, 'File size') : null });
  }
  return files;
}

/** DiskSection: each disk's file (or none: a new empty disk), format and capacity, by disk id. */
function readDiskSection(envelope: Node, files: Map<string, OvfFile>): Map<string, DiskDef> {
  const diskDefs = new Map<string, DiskDef>();
  for (const d of list(node(envelope.DiskSection)?.Disk)) {
    const diskId = attr(d, 'diskId');
    if (!diskId) throw bad('a Disk has no ovf:diskId');
    const capacity = attr(d, 'capacity');
    if (capacity === undefined) throw bad(`disk ${shown(diskId)} has no ovf:capacity`);
    const unit = allocationUnitBytes(attr(d, 'capacityAllocationUnits')) ?? 1;
    const capacityBytes = wholeNumber(capacity, `capacity of disk ${shown(diskId)}`) * unit;
    if (!Number.isSafeInteger(capacityBytes)) throw bad(`disk ${shown(diskId)} is too large`);
    const fileRef = attr(d, 'fileRef');
    const file = fileRef ? files.get(fileRef) : null;
    if (fileRef && !file) throw bad(`disk ${shown(diskId)} refers to a missing file "${shown(fileRef)}"`);
    const formatUri = attr(d, 'format') ?? '';
    const format: ImageFormat | null = imageFormatFromUri(formatUri);
    if (!format) throw new VmdeskError('INVALID_INPUT', `Disk ${shown(diskId)} has an unsupported format "${formatUri.slice(0, 120)}"`);
    diskDefs.set(diskId, { file: file ?? null, format, capacityBytes });
  }
  return diskDefs;
}

/** The appliance's one machine: a collection, or several, are refused. */
function theVirtualSystem(envelope: Node): Node {
  const systems = list(envelope.VirtualSystem);
  if (systems.length === 0) {
    if (envelope.VirtualSystemCollection)
      throw new VmdeskError(
        'INVALID_INPUT',
        'This appliance holds several machines (a VirtualSystemCollection), which VMDesk does not import',
      );
    throw bad('there is no VirtualSystem');
  }
  if (systems.length > 1)
    throw new VmdeskError('INVALID_INPUT', `This appliance holds ${systems.length} machines: VMDesk imports one at a time`);
  return systems[0] as Node;
}

function readOs(vs: Node, vboxMachine: Node | undefined): { family: OsFamily; names: string[] } {
  const osSection = node(vs.OperatingSystemSection);
  const cimText = attr(osSection, 'id');
  const cimId = cimText !== undefined && /^\d+$/.test(cimText) ? Number(cimText) : null;
  const names = [
    text(osSection?.OSType),
    attr(osSection, 'osType') ?? '',
    text(osSection?.Description),
    attr(vboxMachine, 'OSType') ?? '',
  ].filter((s) => s !== '');
  return { family: osFamily(cimId, names), names };
}

/** VMDesk's own section: each disk's bus (OVF has no virtio disk controller). */
function vmdeskBuses(vmdesk: Node | undefined): Map<string, DiskConfig['bus']> {
  const buses = new Map<string, DiskConfig['bus']>();
  for (const b of list(vmdesk?.DiskBus)) {
    const id = attr(b, 'diskId');
    const bus = attr(b, 'bus');
    if (id && (bus === 'virtio' || bus === 'sata')) buses.set(id, bus);
  }
  return buses;
}

type Hardware = Pick<OvfAppliance, 'cpus' | 'memoryMiB' | 'disks' | 'nics'>;

/** The VirtualHardwareSection's items: CPUs (3), memory (4), network adapters (10), disks (17). */
function readHardware(hw: Node, diskDefs: Map<string, DiskDef>, buses: Map<string, DiskConfig['bus']>, warnings: string[]): Hardware {
  const items = [...list(hw.Item), ...list(hw.StorageItem), ...list(hw.EthernetPortItem)];
  const byInstance = new Map<string, Node>();
  for (const item of items) {
    const id = text(item.InstanceID) || text(item.InstanceId);
    if (id) byInstance.set(id, item);
  }
  let cpus = 1;
  let memoryMiB: number | null = null;
  const nics: Array<NicConfig['model']> = [];
  const disks: OvfDisk[] = [];
  for (const item of items) {
    switch (Number(text(item.ResourceType))) {
      case 3:
        cpus = cpuCount(text(item.VirtualQuantity));
        break;
      case 4:
        memoryMiB = memorySize(item, warnings);
        break;
      case 10:
        addNic(item, nics, warnings);
        break;
      case 17:
        disks.push(diskItem(item, diskDefs, byInstance, buses, disks.length));
        break;
      default:
        break;
    }
  }
  if (memoryMiB === null) warnings.push('The appliance gives no memory size: 512 MiB');
  return { cpus, memoryMiB: memoryMiB ?? 512, nics, disks };
}

function cpuCount(quantity: string): number {
  const cpus = wholeNumber(quantity || '1', 'CPU count');
  if (cpus < 1) throw bad('the CPU count is 0');
  if (cpus > MAX_CPUS) throw new VmdeskError('INVALID_INPUT', `The appliance asks for ${cpus} CPUs; VMDesk allows at most ${MAX_CPUS}`);
  return cpus;
}

function memorySize(item: Node, warnings: string[]): number {
  const units = text(item.AllocationUnits);
  let unit = allocationUnitBytes(units);
  if (unit === null) {
    if (units !== '') throw bad(`unknown memory allocation unit "${units.slice(0, 40)}"`);
    warnings.push('The memory size has no unit: read as MiB');
    unit = 2 ** 20;
  }
  const bytes = wholeNumber(text(item.VirtualQuantity), 'memory size') * unit;
  const memoryMiB = Math.ceil(bytes / 2 ** 20);
  if (memoryMiB < MIN_MEMORY_MIB || memoryMiB > MAX_MEMORY_MIB) {
    throw new VmdeskError(
      'INVALID_INPUT',
      `The appliance asks for ${memoryMiB} MiB of memory, outside ${MIN_MEMORY_MIB}..${MAX_MEMORY_MIB} MiB`,
    );
  }
  return memoryMiB;
}

/** An Ethernet adapter: its model kept, its network replaced by NAT (at most 4). */
function addNic(item: Node, nics: Array<NicConfig['model']>, warnings: string[]): void {
  const subType = text(item.ResourceSubType);
  if (nics.length >= 4) {
    warnings.push(`Network adapter ${text(item.ElementName) || subType} dropped: VMDesk has at most 4`);
    return;
  }
  nics.push(nicModel(subType));
  const connection = text(item.Connection);
  if (connection && !/nat/i.test(connection)) warnings.push(`Network adapter ${nics.length} was on "${connection}"; it is on NAT now`);
}

/** A disk drive: its disk from the DiskSection, its bus from VMDesk's section or its controller. */
function diskItem(
  item: Node,
  diskDefs: Map<string, DiskDef>,
  byInstance: Map<string, Node>,
  buses: Map<string, DiskConfig['bus']>,
  disksSoFar: number,
): OvfDisk {
  const resource = text(item.HostResource);
  const diskId = resource.replace(/^(ovf:\/\/disk\/|ovf:\/disk\/|\/disk\/)/, '');
  const def = diskId !== resource ? diskDefs.get(diskId) : undefined;
  if (!def)
    throw bad(`disk item "${text(item.ElementName) || text(item.InstanceID)}" refers to an unknown disk "${resource.slice(0, 80)}"`);
  if (disksSoFar >= 8) throw new VmdeskError('INVALID_INPUT', 'The appliance has more than 8 disks, the most a VMDesk machine can have');
  const parent = byInstance.get(text(item.Parent));
  const parentType = parent ? Number(text(parent.ResourceType)) : 0;
  // Foreign guests get AHCI: every OS since 2006 drives it without extra drivers; virtio only
  // when VMDesk itself wrote the appliance.
  const bus = buses.get(diskId) ?? (parentType === 20 && /virtio/i.test(text(parent?.ResourceSubType)) ? 'virtio' : 'sata');
  return { diskId, ...def, bus };
}

/** UEFI from VirtualBox's machine, VMware's config, or VMDesk's section (which has the last word). */
function readFirmware(hw: Node, vboxMachine: Node | undefined, vmdesk: Node | undefined): MachineConfig['firmware'] {
  let firmware: MachineConfig['firmware'] = 'bios';
  const vboxFirmware = attr(node(node(vboxMachine?.Hardware)?.Firmware), 'type');
  if (vboxFirmware && /efi/i.test(vboxFirmware)) firmware = 'uefi';
  for (const c of list(hw.Config)) {
    if (attr(c, 'key') === 'firmware' && /efi/i.test(attr(c, 'value') ?? '')) firmware = 'uefi';
  }
  const vmdeskFirmware = text(vmdesk?.Firmware);
  if (vmdeskFirmware === 'uefi' || vmdeskFirmware === 'bios') firmware = vmdeskFirmware;
  return firmware;
}

function readKernelBoot(vmdesk: Node | undefined, files: Map<string, OvfFile>): OvfAppliance['kernelBoot'] {
  const kb = node(vmdesk?.KernelBoot);
  if (!kb) return null;
  const kernel = files.get(attr(kb, 'kernelRef') ?? '');
  const initrdRef = attr(kb, 'initrdRef');
  const initrd = initrdRef ? files.get(initrdRef) : null;
  if (!kernel || initrd === undefined) throw bad('vmdesk:KernelBoot refers to a missing file');
  const cmdline = attr(kb, 'cmdline') ?? '';
  if (/[\u0000-\u001f]/.test(cmdline) || cmdline.length > 4096) throw bad('the kernel command line is invalid');
  return { kernel, initrd, cmdline };
}
