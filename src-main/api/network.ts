/**
 * Networking inputs and answers, validated at every boundary (CLI, IPC, WebSocket) with the same
 * schemas. Adapters are named by slot: 0..3 ("Adapter 1".."Adapter 4", net0..net3 in machine.json).
 */
import { z } from 'zod';
import { NIC_MODELS, MAX_NICS, attachmentSchema, macSchema, portForwardSchema, type MachineConfig } from './machine-config.js';

export const nicSlotSchema = z
  .int('An adapter is a number from 1 to 4')
  .min(0)
  .max(MAX_NICS - 1, `There are ${MAX_NICS} adapters`);

/**
 * A change to one adapter. An adapter that does not exist yet is made (NAT, virtio-net, a new MAC,
 * cable connected, unless said otherwise); `enabled: false` removes it. Only what is given changes.
 */
export const setNicInputSchema = z
  .object({
    enabled: z.boolean().optional(),
    /** The new attachment; a NAT attachment given without rules keeps the adapter's rules. */
    attachment: attachmentSchema.optional(),
    model: z.enum(NIC_MODELS).optional(),
    /** A MAC address (unique in the library), or 'auto' for a newly generated one. */
    mac: z.union([macSchema, z.literal('auto')]).optional(),
    /** Cable connected: applied at once to a running machine. */
    cable: z.boolean().optional(),
  })
  .strict();
export type SetNicInput = z.input<typeof setNicInputSchema>;

export const portForwardInputSchema = portForwardSchema;
export type PortForwardInput = z.input<typeof portForwardInputSchema>;
export const portForwardNameSchema = portForwardSchema.shape.name;

/** What a network change did: saved to machine.json, and what of it reached the running guest. */
export interface NetworkOutcome {
  config: MachineConfig;
  /** True when the change took effect in the running machine too (cable, port forwards). */
  live: boolean;
  /** Parts that wait for the next start (attachment, model, MAC of a running machine). */
  warnings: string[];
}

/** What the host offers for bridged networking, and what stops it from working. */
export interface HostBridge {
  name: string;
  /** Operational state from /sys/class/net/<name>/operstate ("up", "down", "unknown"). */
  state: string;
  /** The interfaces enslaved to it. */
  ports: string[];
  /** Whether qemu-bridge-helper's ACL lets VMDesk attach to it. */
  allowed: boolean;
}

export interface NetworkHostInfo {
  bridges: HostBridge[];
  bridgeHelper: {
    /** The helper QEMU runs to make a tap device on a bridge, or null when not installed. */
    path: string | null;
    /** Whether it can do its work for this user (root, or setuid root / CAP_NET_ADMIN). */
    privileged: boolean;
    /** The ACL file it reads, and the bridges it allows ('all' for allow all). */
    aclFile: string;
    allowed: string[];
    /** Each thing that is missing, said with the exact fix (e.g. a sudo line). Empty: bridged works. */
    problems: string[];
  };
  /** Internal networks named by some machine, with the machines on each. */
  internalNetworks: Array<{ name: string; machines: string[] }>;
}
