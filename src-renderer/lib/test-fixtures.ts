/** Fixtures shared by the renderer's unit tests. */
import type { HostCapabilities } from '../../src-main/api/types';

export function fakeHost(over: Partial<HostCapabilities> = {}): HostCapabilities {
  return {
    qemu: { binary: '/usr/bin/qemu-system-x86_64', version: '10.0.0', imgBinary: '/usr/bin/qemu-img' },
    accelerators: { kvm: { available: false, reason: 'no /dev/kvm' }, tcg: { available: true } },
    preferredAccel: 'tcg',
    cpus: 4,
    memoryMiB: 16384,
    freeMemoryMiB: 8192,
    firmware: { ovmfCode: '/usr/share/OVMF/OVMF_CODE.fd', ovmfVars: '/usr/share/OVMF/OVMF_VARS.fd', seabios: true, ipxe: true },
    ...over,
  };
}
