// Property-based tests of the OVF descriptor: an OVF VMDesk writes parses back to the same machine,
// and whatever text a descriptor holds (mutated, truncated, hostile), parsing it gives an appliance
// VMDesk can make or a typed error — never INTERNAL, never anything but a VmdeskError.
import fc from 'fast-check';
import { it } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { toErrorShape, VmdeskError } from '../../api/errors.js';
import {
  MAX_CPUS,
  MAX_MEMORY_MIB,
  MIN_MEMORY_MIB,
  machineConfigSchema,
  machineNameSchema,
  type MachineConfig,
} from '../../api/machine-config.js';
import { fuzzParameters, fuzzTimeout } from '../../fuzz/fuzz-config.js';
import { HOSTILE_STRINGS } from '../../fuzz/hostile.js';
import { validValue } from '../../fuzz/zod-arbitrary.js';
import { buildOvf, parseOvf, type ExportInput, type OvfAppliance } from './ovf.js';

/** Notes of any characters: line breaks, tabs, spaces at the ends, markup, emoji, controls. */
const anyNotes = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(' lead', 'trail ', ' ', '\r\n', 'a\r\nb\rc\nd', '\ttab\t', '<b>&amp;</b>', ']]>', '😀', 'x'.repeat(10_000)),
);

const validConfig = fc
  .tuple(validValue(machineConfigSchema), fc.option(anyNotes, { nil: undefined }))
  .map(([input, notes]) => machineConfigSchema.parse(notes === undefined ? input : { ...input, notes }));

/** XML 1.0's Char production: what an XML document can carry at all. */
function isXmlText(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    const ok =
      c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (!ok) return false;
  }
  return true;
}

/** What export-appliance hands buildOvf for a config: its disks as vmdk members, maybe a kernel. */
const exportInput: fc.Arbitrary<ExportInput> = validConfig.chain((config) =>
  fc.record({
    config: fc.constant(config),
    disks: fc.tuple(
      ...config.disks.map((d, i) =>
        fc.record({
          diskId: fc.constant(`vmdisk${i + 1}`),
          href: fc.constant(`m-disk${String(i + 1).padStart(3, '0')}.vmdk`),
          fileSize: fc.nat(),
          capacityBytes: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          bus: fc.constant(d.bus),
        }),
      ),
    ),
    kernelBoot: config.kernelBoot
      ? fc.record({
          kernelHref: fc.constant('m-vmlinuz'),
          kernelSize: fc.nat(),
          initrdHref: fc.constant(config.kernelBoot.initrd === null ? null : 'm-initrd.img'),
          initrdSize: fc.option(fc.nat(), { nil: null }),
          cmdline: fc.constant(config.kernelBoot.cmdline),
        })
      : fc.constant(null),
  }),
);

/** VirtualBox has no rtl8139: VMDesk exports it as an E1000, which every guest drives too. */
const EXPORTED_NIC: Record<MachineConfig['nics'][number]['model'], OvfAppliance['nics'][number]> = {
  'virtio-net-pci': 'virtio-net-pci',
  e1000: 'e1000',
  rtl8139: 'e1000',
};

/** Parse, and fail the property on anything but a typed, non-INTERNAL VmdeskError. */
function parseOrCode(xml: string): OvfAppliance | string {
  try {
    return parseOvf(xml);
  } catch (err) {
    if (!(err instanceof VmdeskError)) throw new Error(`parseOvf threw a ${String(err)}, not a VmdeskError`, { cause: err });
    const shape = toErrorShape(err);
    expect(shape.code, shape.message).not.toBe('INTERNAL');
    expect(shape.message.length).toBeLessThan(2000);
    return shape.code;
  }
}

/** What any parsed appliance must be: something VMDesk can make a machine of. */
function expectSane(a: OvfAppliance): void {
  expect(machineNameSchema.safeParse(a.name).success, a.name).toBe(true);
  expect(Number.isSafeInteger(a.cpus) && a.cpus >= 1 && a.cpus <= MAX_CPUS, String(a.cpus)).toBe(true);
  expect(Number.isSafeInteger(a.memoryMiB) && a.memoryMiB >= MIN_MEMORY_MIB && a.memoryMiB <= MAX_MEMORY_MIB).toBe(true);
  expect(a.disks.length).toBeLessThanOrEqual(8);
  expect(a.nics.length).toBeLessThanOrEqual(4);
  for (const d of a.disks) expect(Number.isSafeInteger(d.capacityBytes) && d.capacityBytes >= 0).toBe(true);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('an OVF VMDesk writes', () => {
  it.prop([exportInput], fuzzParameters(200))(
    'parses back to the same machine',
    (input) => {
      const { config } = input;
      const xml = buildOvf(input);
      expect(isXmlText(xml), 'the descriptor holds a character XML cannot carry').toBe(true);
      const a = parseOvf(xml);
      expect(a).toMatchObject({
        name: config.name.normalize('NFC'),
        osType: config.osType,
        cpus: config.cpus,
        memoryMiB: config.memoryMiB,
        firmware: config.firmware,
        nics: config.nics.map((n) => EXPORTED_NIC[n.model]),
        warnings: [],
      });
      // Notes come back as they were; what XML cannot carry comes back as U+FFFD, one for one.
      if (isXmlText(config.notes)) expect(a.annotation).toBe(config.notes);
      else expect([...a.annotation].length).toBe([...config.notes].length);
      expect(a.disks).toEqual(
        input.disks.map((d, i) => ({
          diskId: d.diskId,
          file: { id: `file${i + 1}`, href: d.href, size: d.fileSize },
          format: 'vmdk',
          capacityBytes: d.capacityBytes,
          bus: d.bus,
        })),
      );
      const k = input.kernelBoot;
      expect(a.kernelBoot).toEqual(
        k && {
          kernel: { id: `file${input.disks.length + 1}`, href: k.kernelHref, size: k.kernelSize },
          initrd: k.initrdHref === null ? null : { id: `file${input.disks.length + 2}`, href: k.initrdHref, size: k.initrdSize ?? 0 },
          cmdline: k.cmdline,
        },
      );
    },
    fuzzTimeout(200, 100),
  );
});

/** A few valid descriptors to start mutations from. */
const seeds = fc.sample(exportInput, { numRuns: 8, seed: 42 }).map(buildOvf);

/** Pieces of hostile XML spliced into a descriptor. */
const HOSTILE_XML = [
  '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
  '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
  '&xxe;',
  '&#0;',
  '&#x110000;',
  '&lt;&gt;&amp;&quot;&apos;',
  '<![CDATA[ <Item> ]]>',
  '<?xml version="1.1"?>',
  '<__proto__><polluted>1</polluted></__proto__>',
  '<constructor><prototype><polluted>1</polluted></prototype></constructor>',
  '<Item><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>99999999999999999999</rasd:VirtualQuantity></Item>',
  '<Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>-1</rasd:VirtualQuantity></Item>',
  '<Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1e3</rasd:VirtualQuantity></Item>',
  '<Item><rasd:ResourceType>4</rasd:ResourceType><rasd:AllocationUnits>byte * 2^9999</rasd:AllocationUnits><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>',
  '<Item><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>/disk/__proto__</rasd:HostResource></Item>',
  '<Item><rasd:ResourceType>10</rasd:ResourceType></Item>'.repeat(6),
  '<Disk ovf:diskId="__proto__" ovf:capacity="1" ovf:format="raw"/>',
  '<Disk ovf:diskId="d" ovf:capacity="9007199254740993" ovf:capacityAllocationUnits="byte * 2^40" ovf:format="vmdk"/>',
  '<File ovf:id="toString" ovf:href="../../etc/passwd" ovf:size="NaN"/>',
  '<File ovf:id="f" ovf:href="/dev/urandom" ovf:size="-1"/>',
  '<VirtualSystem ovf:id="second"/>',
  `<File ovf:id="long" ovf:href="${'h'.repeat(5000)}" ovf:compression="gzip"/>`,
  `<File ovf:id="long" ovf:href="${'h'.repeat(5000)}" ovf:chunkSize="1"/>`,
  `<Disk ovf:diskId="${'d'.repeat(5000)}" ovf:capacity="x" ovf:format="vmdk"/>`,
  `<Disk ovf:diskId="${'d'.repeat(5000)}" ovf:capacity="1" ovf:fileRef="nothing"/>`,
  '<vmdesk:KernelBoot vmdesk:kernelRef="constructor" vmdesk:cmdline="a&#10;b"/>',
  '<Name>../../etc</Name>',
  `<Annotation>${'x'.repeat(20_000)}</Annotation>`,
  `${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}`,
  '\u0000',
  '\uFEFF',
  ']]>',
  '<',
  '>',
  '"',
];

/** A descriptor cut, spliced with hostile XML or random text, or with characters dropped. */
const mutatedOvf: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(
      fc.record({
        // Where: after the start tag of a section (where a hostile element means something), or anywhere.
        anchor: fc.option(
          fc.constantFrom('<References', '<DiskSection', '<VirtualSystem ', '<VirtualHardwareSection', '<vmdesk:MachineSection'),
        ),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        cut: fc.nat({ max: 40 }),
        insert: fc.oneof(
          fc.constantFrom(...HOSTILE_XML),
          fc.constantFrom(...HOSTILE_STRINGS),
          fc.string({ unit: 'binary', maxLength: 12 }),
          fc.constant(''),
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([xml, edits]) =>
    edits.reduce((s, e) => {
      const tag = e.anchor === null ? -1 : s.indexOf(e.anchor);
      const at = tag >= 0 ? s.indexOf('>', tag) + 1 : Math.floor(e.at * s.length);
      return s.slice(0, at) + e.insert + s.slice(at + e.cut);
    }, xml),
  );

describe('any descriptor text', () => {
  it.prop([mutatedOvf], fuzzParameters(1000))(
    'a mutated descriptor parses to a sane appliance or gives a typed error',
    (xml) => {
      const a = parseOrCode(xml);
      if (typeof a !== 'string') expectSane(a);
    },
    fuzzTimeout(1000, 20),
  );

  it.prop(
    [fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...HOSTILE_XML), fc.constantFrom(...HOSTILE_STRINGS))],
    fuzzParameters(500),
  )(
    'random text and hostile snippets alone give a typed error',
    (text) => {
      expect(typeof parseOrCode(text)).toBe('string');
    },
    fuzzTimeout(500, 5),
  );
});
