/**
 * The per-VM agent (one small detached process per running VM, like Lima's hostagent or
 * podman's conmon) owns QEMU's QMP and serial sockets and serves any number of cores: the desktop
 * app, `vmdesk serve` and CLI commands talk to it over `agent.sock` (JSON lines) and read/write the
 * serial console through `console.sock` (raw bytes, scrollback first).
 */
import { z } from 'zod';
import type { ErrorShape } from '../../api/errors.js';
import type { AgentStatus } from '../../api/types.js';
import { MACHINE_STATES } from '../../api/machine-config.js';
import { cpuPlanSchema } from '../resources/cpu-limits.js';

/** `agent-main RUNTIME_DIR --standby`: an agent started ahead, waiting on its fd 3 for STANDBY_GO. */
export const STANDBY_FLAG = '--standby';
/** What a standby agent reads first on its fd 3 to launch; the passphrase of encrypted disks follows. */
export const STANDBY_GO = 'go\n';

export const launchFileSchema = z.object({
  uuid: z.uuid(),
  name: z.string(),
  qemuBinary: z.string(),
  args: z.array(z.string()),
  machineDir: z.string(),
  qemuLog: z.string(),
  serialLog: z.string(),
  /** Size of serial.log when this boot started: scrollback after a re-adoption starts there. */
  serialLogStart: z.number().int().nonnegative(),
  serial: z.boolean(),
  accel: z.enum(['kvm', 'tcg']),
  /** NIC ids whose cable is unplugged: set with QMP set_link before the guest runs. */
  linksDown: z.array(z.string()),
  /**
   * Start from a saved RAM state (QEMU runs with `-incoming defer`): loaded before the guest continues.
   * `console`: the serial console kept with that state (raw guest output), which the scrollback
   * starts with, so viewers see the screen as it was.
   */
  incoming: z.object({ file: z.string().min(1), console: z.string().min(1).optional() }).optional(),
  /** The destination of a live migration: QEMU waits for the stream (`-incoming defer`); the migration's driver continues it. */
  incomingMigration: z.boolean().optional(),
  /** The VMDesk process driving that incoming migration: if it dies before continuing the guest, QEMU is ended. */
  incomingOwnerPid: z.number().int().positive().optional(),
  /** CPU cap, shares and pinning: QEMU put into its cgroup and its vCPU threads pinned before the guest runs. */
  cpu: cpuPlanSchema.optional(),
  /** Encrypted disks: the agent reads the passphrase from its fd 3 and gives it to QEMU through secret.fifo. */
  encrypted: z.boolean().optional(),
});
export type LaunchFile = z.infer<typeof launchFileSchema>;

export type { AgentStatus } from '../../api/types.js';

export const stateFileSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  state: z.enum(MACHINE_STATES),
  reason: z.string().optional(),
  logTail: z.string().optional(),
  qemuPid: z.number().nullable(),
  agentPid: z.number(),
  accel: z.enum(['kvm', 'tcg']),
  startedAt: z.string(),
  exited: z.boolean().optional(),
});

export type AgentRequest =
  | { id: number; op: 'status' }
  | { id: number; op: 'shutdown'; timeoutMs: number }
  | { id: number; op: 'poweroff' }
  /** QEMU quits and the agent stays, waiting for `relaunch` (a live snapshot restored in place). */
  | { id: number; op: 'unload' }
  /** QEMU started again from launch.json as rewritten by the client that asked `unload`. */
  | { id: number; op: 'relaunch' }
  | { id: number; op: 'pause' }
  | { id: number; op: 'resume' }
  | { id: number; op: 'reset' }
  | { id: number; op: 'screendump'; file: string }
  | { id: number; op: 'qmp'; command: string; args?: Record<string, unknown> };

export type AgentOp = AgentRequest['op'];

export type AgentMessage =
  | { id: number; result: unknown }
  | { id: number; error: ErrorShape }
  | { event: 'state'; status: AgentStatus }
  | { event: 'qmp'; name: string; data?: unknown };

export const agentRequestSchema = z.discriminatedUnion('op', [
  z.object({ id: z.number(), op: z.literal('status') }),
  z.object({ id: z.number(), op: z.literal('shutdown'), timeoutMs: z.number().int().positive().max(3_600_000) }),
  z.object({ id: z.number(), op: z.literal('poweroff') }),
  z.object({ id: z.number(), op: z.literal('unload') }),
  z.object({ id: z.number(), op: z.literal('relaunch') }),
  z.object({ id: z.number(), op: z.literal('pause') }),
  z.object({ id: z.number(), op: z.literal('resume') }),
  z.object({ id: z.number(), op: z.literal('reset') }),
  z.object({ id: z.number(), op: z.literal('screendump'), file: z.string().min(1) }),
  z.object({ id: z.number(), op: z.literal('qmp'), command: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() }),
]);
