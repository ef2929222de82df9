/**
 * Writing an OVF 1.0 descriptor in VirtualBox's dialect, so that VirtualBox's OVF reader accepts it
 * (namespaces, rasd items in schema order, a SATA controller, a NAT network); what OVF cannot say
 * goes into VMDesk's own section.
 */
import type { MachineConfig } from '../../api/machine-config.js';
import { EXPORT_OS, NIC_SUBTYPE } from './ovf-names.js';
import { NS, VMDK_STREAM_URI, type ExportDisk, type ExportInput } from './ovf-types.js';

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

/** Items are written with their rasd elements in schema (alphabetical) order, as DSP0243 1.0 requires. */
function item(fields: Array<[string, string | number]>): string {
  const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `      <Item>\n${sorted.map(([k, v]) => `        <rasd:${k}>${esc(String(v))}</rasd:${k}>`).join('\n')}\n      </Item>`;
}

/** An OVF 1.0 envelope in VirtualBox's dialect (namespaces, items, SATA controller, NAT network). */
export function buildOvf(input: ExportInput): string {
  const { config } = input;
  const os = EXPORT_OS[config.osType];
  const { refs, disksXml, kernelXml } = filesAndDisks(input);
  const efi = config.firmware === 'uefi' ? '\n      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>' : '';
  const busXml = input.disks.map((d) => `\n      <vmdesk:DiskBus vmdesk:diskId="${esc(d.diskId)}" vmdesk:bus="${d.bus}"/>`).join('');
  return `<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="${NS.ovf}" xmlns:ovf="${NS.ovf}" xmlns:rasd="${NS.rasd}" xmlns:vssd="${NS.vssd}" xmlns:xsi="${NS.xsi}" xmlns:vbox="${NS.vbox}" xmlns:vmw="${NS.vmw}" xmlns:vmdesk="${NS.vmdesk}">
  <References>
${refs.join('\n')}
  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
${disksXml}
  </DiskSection>
${networkSection(config)}  <VirtualSystem ovf:id="${esc(config.name)}">
    <Info>A virtual machine</Info>
${annotationSection(config)}    <OperatingSystemSection ovf:id="${os.cim}">
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
${hardwareItems(config, input.disks).join('\n')}${efi}
    </VirtualHardwareSection>
    <vmdesk:MachineSection ovf:required="false">
      <Info>VMDesk settings that OVF cannot express</Info>
      <vmdesk:Firmware>${config.firmware}</vmdesk:Firmware>${busXml}${kernelXml}
    </vmdesk:MachineSection>
  </VirtualSystem>
</Envelope>
`;
}

/** The References (disk images, then kernel and initrd), the DiskSection, and VMDesk's KernelBoot. */
function filesAndDisks(input: ExportInput): { refs: string[]; disksXml: string; kernelXml: string } {
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
  return { refs, disksXml, kernelXml };
}

/** CPUs, memory, the SATA controller with every disk on it, and a NAT adapter per NIC. */
function hardwareItems(config: MachineConfig, disks: ExportDisk[]): string[] {
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
  disks.forEach((d, i) => {
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
  return items;
}

function networkSection(config: MachineConfig): string {
  if (config.nics.length === 0) return '';
  return `  <NetworkSection>
    <Info>Logical networks used in the package</Info>
    <Network ovf:name="NAT">
      <Description>Logical network used by this appliance.</Description>
    </Network>
  </NetworkSection>
`;
}

function annotationSection(config: MachineConfig): string {
  if (!config.notes) return '';
  return `    <AnnotationSection>
      <Info>A human-readable annotation</Info>
      <Annotation>${esc(config.notes)}</Annotation>
    </AnnotationSection>
`;
}
