/**
 * OVF descriptors (DMTF DSP0243, version 1.0 as VirtualBox and VMware write it): parsed into the
 * little VMDesk needs (name, OS family, CPUs, memory, disks, NICs, firmware) and written so that
 * VirtualBox's OVF reader accepts it. Settings OVF cannot express (virtio disk bus, direct kernel
 * boot) travel in an optional `vmdesk:MachineSection` that other readers skip.
 *
 * XML is parsed with fast-xml-parser: pure JavaScript, no native code, never fetches external
 * entities; a DOCTYPE is refused before parsing, so entity expansion attacks cannot start.
 */
import { XMLParser } from 'fast-xml-parser';
import { VmdeskError } from '../../api/errors.js';
import { MAX_CPUS, MAX_MEMORY_MIB, MAX_NAME_LENGTH, MIN_MEMORY_MIB, machineNameSchema } from '../../api/machine-config.js';
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

/** The longest notes a machine may have (machine-config's notes). */
const MAX_NOTES_LENGTH = 10_000;

const ARRAYS = new Set(['File', 'Disk', 'Item', 'StorageItem', 'EthernetPortItem', 'Network', 'VirtualSystem', 'Config', 'DiskBus']);

type Node = Record<string, unknown>;

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

function nicModel(subType: string): NicConfig['model'] {
  const s = subType.toLowerCase();
  if (s.includes('virtio')) return 'virtio-net-pci';
  if (s.includes('8139')) return 'rtl8139';
  // E1000, E1000e, VmxNet3, PCNet32...: every common guest has an e1000 driver.
  return 'e1000';
}

/** Parse an OVF descriptor. Errors say what is wrong; what VMDesk ignores becomes a warning. */
export function parseOvf(xml: string): OvfAppliance {
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
  const warnings: string[] = [];

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

  const diskDefs = new Map<string, { file: OvfFile | null; format: ImageFormat; capacityBytes: number }>();
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
    const format = imageFormatFromUri(formatUri);
    if (!format) throw new VmdeskError('INVALID_INPUT', `Disk ${shown(diskId)} has an unsupported format "${formatUri.slice(0, 120)}"`);
    diskDefs.set(diskId, { file: file ?? null, format, capacityBytes });
  }

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
  const vs = systems[0] as Node;
  const vboxMachine = node(vs.Machine);
  const vmdesk = node(vs.MachineSection);

  const rawName = text(vs.Name) || attr(vboxMachine, 'name') || attr(vs, 'id') || 'imported';
  const osSection = node(vs.OperatingSystemSection);
  const cimText = attr(osSection, 'id');
  const cimId = cimText !== undefined && /^\d+$/.test(cimText) ? Number(cimText) : null;
  const osNames = [
    text(osSection?.OSType),
    attr(osSection, 'osType') ?? '',
    text(osSection?.Description),
    attr(vboxMachine, 'OSType') ?? '',
  ].filter((s) => s !== '');
  const osType = osFamily(cimId, osNames);

  const hw = node(vs.VirtualHardwareSection);
  if (!hw) throw bad('there is no VirtualHardwareSection');
  const items = [...list(hw.Item), ...list(hw.StorageItem), ...list(hw.EthernetPortItem)];
  const byInstance = new Map<string, Node>();
  for (const item of items) {
    const id = text(item.InstanceID) || text(item.InstanceId);
    if (id) byInstance.set(id, item);
  }

  let cpus = 1;
  let memoryMiB = 512;
  let sawMemory = false;
  const nics: Array<NicConfig['model']> = [];
  const disks: OvfDisk[] = [];
  const vmdeskBus = new Map<string, DiskConfig['bus']>();
  for (const b of list(vmdesk?.DiskBus)) {
    const id = attr(b, 'diskId');
    const bus = attr(b, 'bus');
    if (id && (bus === 'virtio' || bus === 'sata')) vmdeskBus.set(id, bus);
  }

  for (const item of items) {
    const type = Number(text(item.ResourceType));
    const quantity = text(item.VirtualQuantity);
    switch (type) {
      case 3: {
        cpus = wholeNumber(quantity || '1', 'CPU count');
        if (cpus < 1) throw bad('the CPU count is 0');
        if (cpus > MAX_CPUS)
          throw new VmdeskError('INVALID_INPUT', `The appliance asks for ${cpus} CPUs; VMDesk allows at most ${MAX_CPUS}`);
        break;
      }
      case 4: {
        const units = text(item.AllocationUnits);
        let unit = allocationUnitBytes(units);
        if (unit === null) {
          if (units !== '') throw bad(`unknown memory allocation unit "${units.slice(0, 40)}"`);
          warnings.push('The memory size has no unit: read as MiB');
          unit = 2 ** 20;
        }
        const bytes = wholeNumber(quantity, 'memory size') * unit;
        memoryMiB = Math.ceil(bytes / 2 ** 20);
        sawMemory = true;
        if (memoryMiB < MIN_MEMORY_MIB || memoryMiB > MAX_MEMORY_MIB) {
          throw new VmdeskError(
            'INVALID_INPUT',
            `The appliance asks for ${memoryMiB} MiB of memory, outside ${MIN_MEMORY_MIB}..${MAX_MEMORY_MIB} MiB`,
          );
        }
        break;
      }
      case 10: {
        const subType = text(item.ResourceSubType);
        if (nics.length >= 4) warnings.push(`Network adapter ${text(item.ElementName) || subType} dropped: VMDesk has at most 4`);
        else {
          const model = nicModel(subType);
          nics.push(model);
          const connection = text(item.Connection);
          if (connection && !/nat/i.test(connection))
            warnings.push(`Network adapter ${nics.length} was on "${connection}"; it is on NAT now`);
        }
        break;
      }
      case 17: {
        const resource = text(item.HostResource);
        const diskId = resource.replace(/^(ovf:\/\/disk\/|ovf:\/disk\/|\/disk\/)/, '');
        const def = diskId !== resource ? diskDefs.get(diskId) : undefined;
        if (!def)
          throw bad(`disk item "${text(item.ElementName) || text(item.InstanceID)}" refers to an unknown disk "${resource.slice(0, 80)}"`);
        if (disks.length >= 8)
          throw new VmdeskError('INVALID_INPUT', 'The appliance has more than 8 disks, the most a VMDesk machine can have');
        const parent = byInstance.get(text(item.Parent));
        const parentType = parent ? Number(text(parent.ResourceType)) : 0;
        // Foreign guests get AHCI: every OS since 2006 drives it without extra drivers; virtio only
        // when VMDesk itself wrote the appliance.
        const bus = vmdeskBus.get(diskId) ?? (parentType === 20 && /virtio/i.test(text(parent?.ResourceSubType)) ? 'virtio' : 'sata');
        disks.push({ diskId, ...def, bus });
        break;
      }
      default:
        break;
    }
  }
  if (!sawMemory) warnings.push('The appliance gives no memory size: 512 MiB');

  let firmware: MachineConfig['firmware'] = 'bios';
  const vboxFirmware = attr(node(node(vboxMachine?.Hardware)?.Firmware), 'type');
  if (vboxFirmware && /efi/i.test(vboxFirmware)) firmware = 'uefi';
  for (const c of list(hw.Config)) {
    if (attr(c, 'key') === 'firmware' && /efi/i.test(attr(c, 'value') ?? '')) firmware = 'uefi';
  }
  const vmdeskFirmware = text(vmdesk?.Firmware);
  if (vmdeskFirmware === 'uefi' || vmdeskFirmware === 'bios') firmware = vmdeskFirmware;

  let kernelBoot: OvfAppliance['kernelBoot'] = null;
  const kb = node(vmdesk?.KernelBoot);
  if (kb) {
    const kernel = files.get(attr(kb, 'kernelRef') ?? '');
    const initrdRef = attr(kb, 'initrdRef');
    const initrd = initrdRef ? files.get(initrdRef) : null;
    if (!kernel || initrd === undefined) throw bad('vmdesk:KernelBoot refers to a missing file');
    const cmdline = attr(kb, 'cmdline') ?? '';
    if (/[\u0000-\u001f]/.test(cmdline) || cmdline.length > 4096) throw bad('the kernel command line is invalid');
    kernelBoot = { kernel, initrd, cmdline };
  }

  return {
    name: machineNameFrom(rawName),
    osType,
    osDescription: osNames[0] ?? '',
    cpus,
    memoryMiB,
    firmware,
    disks,
    nics,
    kernelBoot,
    annotation: text(node(vs.AnnotationSection)?.Annotation).slice(0, MAX_NOTES_LENGTH),
    files: [...files.values()],
    warnings,
  };
}

/** The characters XML 1.0 cannot carry at all, not even as references. */
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text for an attribute or an element. Markup is escaped; tabs and line breaks are written as
 * references, as are spaces at either end (a reader normalises the former in attributes and
 * trims the latter); characters XML cannot hold become U+FFFD.
 */
function esc(s: string): string {
  return s
    .replace(NOT_XML, '\ufffd')
    .replace(
      /[<>&"'\t\n\r]/g,
      (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? `&#${c.charCodeAt(0)};`,
    )
    .replace(/^ | $/g, '&#32;');
}

/** CIM OS ids and VirtualBox OS type names written on export. */
const EXPORT_OS: Record<OsFamily, { cim: number; vbox: string }> = {
  linux: { cim: 101, vbox: 'Linux_64' },
  windows: { cim: 120, vbox: 'Windows10_64' },
  bsd: { cim: 78, vbox: 'FreeBSD_64' },
  other: { cim: 102, vbox: 'Other_64' },
};

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

/** Items are written with their rasd elements in schema (alphabetical) order, as DSP0243 1.0 requires. */
function item(fields: Array<[string, string | number]>): string {
  const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `      <Item>\n${sorted.map(([k, v]) => `        <rasd:${k}>${esc(String(v))}</rasd:${k}>`).join('\n')}\n      </Item>`;
}

const NIC_SUBTYPE: Record<NicConfig['model'], string> = { 'virtio-net-pci': 'virtio', e1000: 'E1000', rtl8139: 'E1000' };

/** An OVF 1.0 envelope in VirtualBox's dialect (namespaces, items, SATA controller, NAT network). */
export function buildOvf(input: ExportInput): string {
  const { config } = input;
  const os = EXPORT_OS[config.osType];
  const refs: string[] = [];
  let fileNo = 0;
  const fileId = (): string => `file${++fileNo}`;
  const diskFileIds = input.disks.map((d) => {
    const id = fileId();
    refs.push(`    <File ovf:id="${id}" ovf:href="${esc(d.href)}" ovf:size="${d.fileSize}"/>`);
    return id;
  });
  let kernelXml = '';
  if (input.kernelBoot) {
    const k = input.kernelBoot;
    const kernelId = fileId();
    refs.push(`    <File ovf:id="${kernelId}" ovf:href="${esc(k.kernelHref)}" ovf:size="${k.kernelSize}"/>`);
    let initrdAttr = '';
    if (k.initrdHref !== null) {
      const initrdId = fileId();
      refs.push(`    <File ovf:id="${initrdId}" ovf:href="${esc(k.initrdHref)}" ovf:size="${k.initrdSize ?? 0}"/>`);
      initrdAttr = ` vmdesk:initrdRef="${initrdId}"`;
    }
    kernelXml = `\n      <vmdesk:KernelBoot vmdesk:kernelRef="${kernelId}"${initrdAttr} vmdesk:cmdline="${esc(k.cmdline)}"/>`;
  }
  const disksXml = input.disks
    .map(
      (d, i) =>
        `    <Disk ovf:capacity="${d.capacityBytes}" ovf:diskId="${esc(d.diskId)}" ovf:fileRef="${diskFileIds[i] ?? ''}" ovf:format="${VMDK_STREAM_URI}"/>`,
    )
    .join('\n');
  let instance = 0;
  const items: string[] = [];
  items.push(
    item([
      ['Caption', `${config.cpus} virtual CPU`],
      ['Description', 'Number of virtual CPUs'],
      ['ElementName', `${config.cpus} virtual CPU`],
      ['InstanceID', ++instance],
      ['ResourceType', 3],
      ['VirtualQuantity', config.cpus],
    ]),
  );
  items.push(
    item([
      ['AllocationUnits', 'MegaBytes'],
      ['Caption', `${config.memoryMiB} MB of memory`],
      ['Description', 'Memory Size'],
      ['ElementName', `${config.memoryMiB} MB of memory`],
      ['InstanceID', ++instance],
      ['ResourceType', 4],
      ['VirtualQuantity', config.memoryMiB],
    ]),
  );
  const sataId = ++instance;
  items.push(
    item([
      ['Address', 0],
      ['Caption', 'sataController0'],
      ['Description', 'SATA Controller'],
      ['ElementName', 'sataController0'],
      ['InstanceID', sataId],
      ['ResourceSubType', 'AHCI'],
      ['ResourceType', 20],
    ]),
  );
  input.disks.forEach((d, i) => {
    items.push(
      item([
        ['AddressOnParent', i],
        ['Caption', `disk${i + 1}`],
        ['Description', 'Disk Image'],
        ['ElementName', `disk${i + 1}`],
        ['HostResource', `/disk/${d.diskId}`],
        ['InstanceID', ++instance],
        ['Parent', sataId],
        ['ResourceType', 17],
      ]),
    );
  });
  for (const nic of config.nics) {
    items.push(
      item([
        ['AutomaticAllocation', 'true'],
        ['Caption', "Ethernet adapter on 'NAT'"],
        ['Connection', 'NAT'],
        ['ElementName', "Ethernet adapter on 'NAT'"],
        ['InstanceID', ++instance],
        ['ResourceSubType', NIC_SUBTYPE[nic.model]],
        ['ResourceType', 10],
      ]),
    );
  }
  const efi = config.firmware === 'uefi' ? '\n      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>' : '';
  const busXml = input.disks.map((d) => `\n      <vmdesk:DiskBus vmdesk:diskId="${esc(d.diskId)}" vmdesk:bus="${d.bus}"/>`).join('');
  const network =
    config.nics.length > 0
      ? `  <NetworkSection>
    <Info>Logical networks used in the package</Info>
    <Network ovf:name="NAT">
      <Description>Logical network used by this appliance.</Description>
    </Network>
  </NetworkSection>
`
      : '';
  const annotation = config.notes
    ? `    <AnnotationSection>
      <Info>A human-readable annotation</Info>
      <Annotation>${esc(config.notes)}</Annotation>
    </AnnotationSection>
`
    : '';
  return `<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="${NS.ovf}" xmlns:ovf="${NS.ovf}" xmlns:rasd="${NS.rasd}" xmlns:vssd="${NS.vssd}" xmlns:xsi="${NS.xsi}" xmlns:vbox="${NS.vbox}" xmlns:vmw="${NS.vmw}" xmlns:vmdesk="${NS.vmdesk}">
  <References>
${refs.join('\n')}
  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
${disksXml}
  </DiskSection>
${network}  <VirtualSystem ovf:id="${esc(config.name)}">
    <Info>A virtual machine</Info>
${annotation}    <OperatingSystemSection ovf:id="${os.cim}">
      <Info>The kind of installed guest operating system</Info>
      <Description>${os.vbox}</Description>
      <vbox:OSType ovf:required="false">${os.vbox}</vbox:OSType>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements for a virtual machine</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${esc(config.name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>
      </System>
${items.join('\n')}${efi}
    </VirtualHardwareSection>
    <vmdesk:MachineSection ovf:required="false">
      <Info>VMDesk settings that OVF cannot express</Info>
      <vmdesk:Firmware>${config.firmware}</vmdesk:Firmware>${busXml}${kernelXml}
    </vmdesk:MachineSection>
  </VirtualSystem>
</Envelope>
`;
}
