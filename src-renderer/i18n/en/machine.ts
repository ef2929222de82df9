/**
 * The machine vocabulary every view shares: run states (VirtualBox's words, one vocabulary for the
 * list, the details, the preview and the console window), OS types, devices, and the details pane's
 * hardware summary.
 */
export default {
  state: {
    stopped: 'Powered off',
    starting: 'Starting…',
    running: 'Running',
    paused: 'Paused',
    stopping: 'Stopping…',
    crashed: 'Aborted',
    saved: 'Saved',
    /** A machine of a remote host that cannot be reached: what it last reported, greyed. */
    unreachable: 'disconnected',
  },
  /** The state inside a sentence. */
  stateSentence: {
    stopped: '{name} is powered off',
    starting: '{name} is starting…',
    running: '{name} is running',
    paused: '{name} is paused',
    stopping: '{name} is stopping…',
    crashed: '{name} is aborted',
    saved: '{name} is saved',
  },
  os: {
    linux: 'Linux',
    windows: 'Windows',
    bsd: 'BSD',
    other: 'Other',
  },
  boot: {
    disk: 'Hard disk',
    cdrom: 'Optical',
    network: 'Network',
  },
  firmware: {
    bios: 'BIOS',
    uefi: 'UEFI',
  },
  display: {
    std: 'Standard VGA',
    virtio: 'VirtIO GPU',
    cirrus: 'Cirrus Logic',
    none: 'None (headless)',
  },
  network: {
    nat: 'NAT',
    none: 'Not attached',
  },
  summary: {
    general: 'General',
    name: 'Name',
    os: 'Operating system',
    system: 'System',
    memory: 'Base memory',
    processors: 'Processors',
    firmware: 'Firmware',
    bootOrder: 'Boot order',
    display: 'Display',
    adapter: 'Adapter',
    storage: 'Storage',
    disk: 'Disk {number} ({bus})',
    diskFile: '{file} [{format}]',
    diskFileReadOnly: '{file} [{format}, read-only]',
    disks: 'Disks',
    none: 'None',
    cdrom: 'CD-ROM',
    cdromEmpty: 'Empty',
    kernel: 'Kernel',
    initrd: 'Initrd',
    cmdline: 'Command line',
    network: 'Network',
    adapters: 'Adapters',
    serial: 'Serial port',
    port1: 'Port 1',
    serialOn: 'Enabled (console)',
    serialOff: 'Disabled',
  },
};
