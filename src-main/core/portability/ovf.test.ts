import { defaultResources } from '../../api/machine-config.js';
import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import type { MachineConfig } from '../../api/machine-config.js';
import { allocationUnitBytes, buildOvf, imageFormatFromUri, machineNameFrom, osFamily, parseOvf } from './ovf.js';

/** As VirtualBox 7 writes it (File without size, HostResource /disk/..., vbox:Machine with EFI firmware). */
const VIRTUALBOX_OVF = `<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vbox="http://www.virtualbox.org/ovf/machine">
  <References>
    <File ovf:id="file1" ovf:href="Ubuntu Server-disk001.vmdk"/>
  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
    <Disk ovf:capacity="26843545600" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" vbox:uuid="1c9bd0f3-3f4c-4b09-9a4b-4d0a1f8a8c11"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks used in the package</Info>
    <Network ovf:name="NAT">
      <Description>Logical network used by this appliance.</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="Ubuntu Server">
    <Info>A virtual machine</Info>
    <ProductSection>
      <Info>Meta-information about the installed software</Info>
      <Product>Ubuntu</Product>
    </ProductSection>
    <AnnotationSection>
      <Info>A human-readable annotation</Info>
      <Annotation>Web server &amp; database</Annotation>
    </AnnotationSection>
    <OperatingSystemSection ovf:id="94">
      <Info>The kind of installed guest operating system</Info>
      <Description>Ubuntu_64</Description>
      <vbox:OSType ovf:required="false">Ubuntu_64</vbox:OSType>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements for a virtual machine</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>Ubuntu Server</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:Caption>2 virtual CPU</rasd:Caption>
        <rasd:Description>Number of virtual CPUs</rasd:Description>
        <rasd:ElementName>2 virtual CPU</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>2</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits>
        <rasd:Caption>2048 MB of memory</rasd:Caption>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>2048 MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>2048</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Caption>ideController0</rasd:Caption>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>ideController0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>PIIX4</rasd:ResourceSubType>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Caption>sataController0</rasd:Caption>
        <rasd:Description>SATA Controller</rasd:Description>
        <rasd:ElementName>sataController0</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>AHCI</rasd:ResourceSubType>
        <rasd:ResourceType>20</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:Caption>sound</rasd:Caption>
        <rasd:Description>Sound Card</rasd:Description>
        <rasd:ElementName>sound</rasd:ElementName>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:ResourceSubType>ensoniq1371</rasd:ResourceSubType>
        <rasd:ResourceType>35</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:Caption>disk1</rasd:Caption>
        <rasd:Description>Disk Image</rasd:Description>
        <rasd:ElementName>disk1</rasd:ElementName>
        <rasd:HostResource>/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>8</rasd:InstanceID>
        <rasd:Parent>5</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>3</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:Caption>cdrom1</rasd:Caption>
        <rasd:Description>CD-ROM Drive</rasd:Description>
        <rasd:ElementName>cdrom1</rasd:ElementName>
        <rasd:InstanceID>9</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>15</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Caption>Ethernet adapter on 'NAT'</rasd:Caption>
        <rasd:Connection>NAT</rasd:Connection>
        <rasd:ElementName>Ethernet adapter on 'NAT'</rasd:ElementName>
        <rasd:InstanceID>10</rasd:InstanceID>
        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
    <vbox:Machine ovf:required="false" version="1.19-linux" uuid="{5d5b6c5e-12a3-4b1b-9c4e-0f3c2a6d7e88}" name="Ubuntu Server" OSType="Ubuntu_64" snapshotFolder="Snapshots" lastStateChange="2024-03-01T10:00:00Z">
      <ovf:Info>Complete VirtualBox machine configuration in VirtualBox format</ovf:Info>
      <Hardware>
        <CPU count="2"/>
        <Memory RAMSize="2048"/>
        <Firmware type="EFI"/>
        <Boot>
          <Order position="1" device="HardDisk"/>
        </Boot>
      </Hardware>
    </vbox:Machine>
  </VirtualSystem>
</Envelope>
`;

/** As VMware's ovftool writes it (Name element, units in byte * 2^N, ovf:/disk/, vmw:Config, two NICs). */
const VMWARE_OVF = `<?xml version="1.0" encoding="UTF-8"?>
<!--Generated by VMware ovftool 4.4.3 (build-18663434), UTC time: 2024-02-12T09:10:11.123Z-->
<Envelope vmw:buildId="build-18663434" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="win-srv-disk1.vmdk" ovf:id="file1" ovf:size="5368709632"/>
    <File ovf:href="win-srv-disk2.vmdk" ovf:id="file2" ovf:size="68608"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="40" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="12345678336"/>
    <Disk ovf:capacity="1024" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk2" ovf:fileRef="file2" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="0"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="win-srv">
    <Info>A virtual machine</Info>
    <Name>Windows Server 2019 (prod)</Name>
    <OperatingSystemSection ovf:id="112" vmw:osType="windows2019srv_64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>win-srv</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>4 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>4</rasd:VirtualQuantity>
        <vmw:CoresPerSocket ovf:required="false">2</vmw:CoresPerSocket>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>4096MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>4096</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogicsas</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
        <vmw:Config ovf:required="false" vmw:key="backing.writeThrough" vmw:value="false"/>
      </Item>
      <Item>
        <rasd:AddressOnParent>1</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 2</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk2</rasd:HostResource>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>7</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:Description>VmxNet3 ethernet adapter on &quot;VM Network&quot;</rasd:Description>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>6</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>8</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:ElementName>Network adapter 2</rasd:ElementName>
        <rasd:InstanceID>7</rasd:InstanceID>
        <rasd:ResourceSubType>E1000e</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
      <Item ovf:required="false">
        <rasd:AutomaticAllocation>false</rasd:AutomaticAllocation>
        <rasd:ElementName>Video card</rasd:ElementName>
        <rasd:InstanceID>8</rasd:InstanceID>
        <rasd:ResourceType>24</rasd:ResourceType>
      </Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
      <vmw:Config ovf:required="false" vmw:key="tools.syncTimeWithHost" vmw:value="false"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;

describe('parseOvf', () => {
  it('reads a VirtualBox appliance', () => {
    const a = parseOvf(VIRTUALBOX_OVF);
    expect(a).toMatchObject({ name: 'Ubuntu Server', osType: 'linux', cpus: 2, memoryMiB: 2048, firmware: 'uefi', nics: ['e1000'] });
    expect(a.annotation).toBe('Web server & database');
    expect(a.disks).toEqual([
      {
        diskId: 'vmdisk1',
        file: { id: 'file1', href: 'Ubuntu Server-disk001.vmdk', size: null },
        format: 'vmdk',
        capacityBytes: 26843545600,
        bus: 'sata',
      },
    ]);
    expect(a.kernelBoot).toBeNull();
  });

  it('reads a VMware appliance: units, two disks on SCSI, NICs moved to NAT, EFI from vmw:Config', () => {
    const a = parseOvf(VMWARE_OVF);
    expect(a).toMatchObject({ name: 'Windows Server 2019 (prod)', osType: 'windows', cpus: 4, memoryMiB: 4096, firmware: 'uefi' });
    expect(a.nics).toEqual(['e1000', 'e1000']);
    expect(a.disks.map((d) => [d.diskId, d.capacityBytes, d.file?.size, d.bus])).toEqual([
      ['vmdisk1', 40 * 2 ** 30, 5368709632, 'sata'],
      ['vmdisk2', 2 ** 30, 68608, 'sata'],
    ]);
    expect(a.warnings.join('\n')).toContain('was on "VM Network"; it is on NAT now');
  });

  it('refuses what it cannot import, saying why', () => {
    expect(() => parseOvf('<html/>')).toThrow(/root element must be Envelope/);
    expect(() => parseOvf('<Envelope><VirtualSystem>')).toThrow(/Invalid OVF/);
    expect(() => parseOvf('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Envelope/>')).toThrow(/DOCTYPE/);
    expect(() => parseOvf(VIRTUALBOX_OVF.replace('/disk/vmdisk1', '/disk/nope'))).toThrow(/unknown disk/);
    expect(() => parseOvf(VIRTUALBOX_OVF.replace('ovf:fileRef="file1"', 'ovf:fileRef="file9"'))).toThrow(/missing file "file9"/);
    expect(() => parseOvf(VIRTUALBOX_OVF.replace('<File ovf:id="file1"', '<File ovf:compression="gzip" ovf:id="file1"'))).toThrow(
      /compressed/,
    );
    expect(() =>
      parseOvf(VIRTUALBOX_OVF.replace('#streamOptimized', '').replace('vmware.com/interfaces/specifications/vmdk.html', 'example.com/x')),
    ).toThrow(/unsupported format/);
    expect(() => parseOvf(VIRTUALBOX_OVF.replace('<rasd:AllocationUnits>MegaBytes', '<rasd:AllocationUnits>furlongs'))).toThrow(
      /allocation unit/,
    );
    expect(() => parseOvf(VIRTUALBOX_OVF.replace('<rasd:VirtualQuantity>2048<', '<rasd:VirtualQuantity>99999999999<'))).toThrow(/memory/);
    expect(() => parseOvf(VIRTUALBOX_OVF.replace('<rasd:VirtualQuantity>2<', '<rasd:VirtualQuantity>-2<'))).toThrow(/whole number/);
    const two = VIRTUALBOX_OVF.replace(/<VirtualSystem [\s\S]*<\/VirtualSystem>/, (vs) => vs + vs);
    expect(() => parseOvf(two)).toThrow(/2 machines/);
  });

  it('names the machine safely whatever the appliance calls itself', () => {
    expect(
      parseOvf(
        VIRTUALBOX_OVF.replace('ovf:id="Ubuntu Server"', 'ovf:id="../../etc/passwd"').replace(
          /name="Ubuntu Server"/,
          'name="../../etc/passwd"',
        ),
      ).name,
    ).toBe('etc-passwd');
    expect(machineNameFrom('web,01;rm -rf /')).toBe('web-01-rm -rf -');
    expect(machineNameFrom('///')).toBe('imported');
    expect(machineNameFrom('x'.repeat(200))).toHaveLength(64);
  });
});

describe('OVF helpers', () => {
  it('allocation units', () => {
    expect(allocationUnitBytes('byte * 2^20')).toBe(2 ** 20);
    expect(allocationUnitBytes('byte*2^30')).toBe(2 ** 30);
    expect(allocationUnitBytes('byte * 1024')).toBe(1024);
    expect(allocationUnitBytes('MegaBytes')).toBe(2 ** 20);
    expect(allocationUnitBytes('GB')).toBe(2 ** 30);
    expect(allocationUnitBytes('hertz * 10^6')).toBeNull();
    expect(allocationUnitBytes(undefined)).toBeNull();
  });

  it('OS families from names, then from CIM ids', () => {
    expect(osFamily(96, ['Debian_64'])).toBe('linux');
    expect(osFamily(1, ['windows9_64Guest'])).toBe('windows');
    expect(osFamily(null, ['FreeBSD_64'])).toBe('bsd');
    expect(osFamily(105, [])).toBe('windows');
    expect(osFamily(42, [])).toBe('bsd');
    expect(osFamily(36, [])).toBe('linux');
    expect(osFamily(1, [])).toBe('other');
  });

  it('image formats from ovf:format URIs', () => {
    expect(imageFormatFromUri('http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized')).toBe('vmdk');
    expect(imageFormatFromUri('http://www.vmware.com/specifications/vmdk.html#sparse')).toBe('vmdk');
    expect(imageFormatFromUri('http://go.microsoft.com/fwlink/?LinkId=137171')).toBe('vpc');
    expect(imageFormatFromUri('http://example.com/floppy')).toBeNull();
  });
});

const CONFIG: MachineConfig = {
  version: 1,
  uuid: '0b8d3a52-8f43-4a4b-9d59-3a1cbd1d4c11',
  name: 'web <&> "01"',
  osType: 'linux',
  cpus: 2,
  memoryMiB: 768,
  firmware: 'uefi',
  bootOrder: ['disk', 'cdrom'],
  disks: [
    { id: 'disk0', file: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio', readOnly: false },
    { id: 'disk1', file: 'disks/disk1.qcow2', format: 'qcow2', bus: 'sata', readOnly: false },
  ],
  cdrom: { file: null },
  kernelBoot: { kernel: 'boot/vmlinuz', initrd: 'boot/initrd.img', cmdline: 'console=ttyS0 quiet' },
  nics: [{ id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:12:34:56', cable: true, attachment: { type: 'nat', portForwards: [] } }],
  display: { adapter: 'std' },
  serial: { enabled: true },
  resources: defaultResources(),
  notes: 'a <note>',
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('buildOvf', () => {
  const xml = buildOvf({
    config: CONFIG,
    disks: [
      { diskId: 'vmdisk1', href: 'web-disk001.vmdk', fileSize: 1000, capacityBytes: 2 ** 30, bus: 'virtio' },
      { diskId: 'vmdisk2', href: 'web-disk002.vmdk', fileSize: 2000, capacityBytes: 2 ** 20, bus: 'sata' },
    ],
    kernelBoot: { kernelHref: 'web-vmlinuz', kernelSize: 10, initrdHref: 'web-initrd.img', initrdSize: 20, cmdline: 'console=ttyS0 quiet' },
  });

  it('is well-formed XML with the namespaces VirtualBox writes', () => {
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml, true) as { Envelope: Record<string, string> };
    for (const ns of ['xmlns', 'xmlns:ovf', 'xmlns:rasd', 'xmlns:vssd', 'xmlns:vbox']) expect(doc.Envelope[`@_${ns}`]).toMatch(/^http/);
    expect(doc.Envelope['@_ovf:version']).toBe('1.0');
    expect(xml).toContain('<vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>');
    expect(xml).toContain('<rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits>');
    expect(xml).toContain('<rasd:ResourceSubType>AHCI</rasd:ResourceSubType>');
    expect(xml).toContain('<rasd:HostResource>/disk/vmdisk1</rasd:HostResource>');
    expect(xml).toContain('<vmdesk:MachineSection ovf:required="false">');
  });

  it('writes rasd elements in schema (alphabetical) order', () => {
    for (const itemXml of xml.match(/<Item>[\s\S]*?<\/Item>/g) ?? []) {
      const names = [...itemXml.matchAll(/<rasd:(\w+)>/g)].map((m) => m[1] ?? '');
      expect(names).toEqual([...names].sort());
    }
  });

  // The checks VirtualBox's OVF reader (src/VBox/Main/xml/ovfreader.cpp) makes before it imports.
  it("passes VirtualBox's reader rules", () => {
    const doc = new XMLParser({
      ignoreAttributes: false,
      removeNSPrefix: true,
      isArray: (n) => ['Item', 'File', 'Disk'].includes(n),
    }).parse(xml, true) as {
      Envelope: {
        References: { File: Array<Record<string, string>> };
        DiskSection: { Disk: Array<Record<string, string>> };
        VirtualSystem: {
          '@_id': string;
          OperatingSystemSection: Record<string, string>;
          VirtualHardwareSection: { Item: Array<Record<string, string>> };
        };
      };
    };
    const env = doc.Envelope;
    const fileIds = new Set(env.References.File.map((f) => f['@_id']));
    for (const d of env.DiskSection.Disk) {
      expect(d['@_diskId'] && d['@_format'] && /^\d+$/.test(d['@_capacity'] ?? '')).toBeTruthy();
      expect(fileIds.has(d['@_fileRef'] ?? '')).toBe(true);
    }
    expect(env.VirtualSystem['@_id']).toBeTruthy();
    expect(env.VirtualSystem.OperatingSystemSection['@_id']).toMatch(/^\d+$/);
    const items = env.VirtualSystem.VirtualHardwareSection.Item;
    const byId = new Map(items.map((i) => [String(i.InstanceID), i]));
    expect(byId.size).toBe(items.length);
    for (const i of items) {
      const type = Number(i.ResourceType);
      expect(type).toBeGreaterThan(0);
      if (type === 4) expect(['MegaBytes', 'MB', 'byte * 2^20', 'GigaBytes', 'GB', 'byte * 2^30']).toContain(i.AllocationUnits);
      if (type === 20) expect(i.ResourceSubType).toBe('AHCI');
      if (type === 17) {
        const parent = byId.get(String(i.Parent));
        expect([5, 6, 20]).toContain(Number(parent?.ResourceType));
        const diskId = String(i.HostResource).replace(/^(ovf:\/\/disk\/|ovf:\/disk\/|\/disk\/)/, '');
        expect(env.DiskSection.Disk.some((d) => d['@_diskId'] === diskId)).toBe(true);
      }
    }
    expect(items.filter((i) => Number(i.ResourceType) === 17)).toHaveLength(2);
  });

  it('round-trips through the parser', () => {
    const a = parseOvf(xml);
    expect(a).toMatchObject({
      name: 'web --- -01-',
      osType: 'linux',
      cpus: 2,
      memoryMiB: 768,
      firmware: 'uefi',
      nics: ['virtio-net-pci'],
      annotation: 'a <note>',
    });
    expect(a.disks.map((d) => [d.diskId, d.file?.href, d.capacityBytes, d.bus, d.format])).toEqual([
      ['vmdisk1', 'web-disk001.vmdk', 2 ** 30, 'virtio', 'vmdk'],
      ['vmdisk2', 'web-disk002.vmdk', 2 ** 20, 'sata', 'vmdk'],
    ]);
    expect(a.kernelBoot).toEqual({
      kernel: { id: 'file3', href: 'web-vmlinuz', size: 10 },
      initrd: { id: 'file4', href: 'web-initrd.img', size: 20 },
      cmdline: 'console=ttyS0 quiet',
    });
  });
});
