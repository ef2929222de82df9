/**
 * Remote hosts: other computers with VMDesk installed, reached over SSH with the user's own setup.
 * A host entry names an SSH destination; every string of it ends up on ssh's command line or in the
 * remote shell's command, so each is checked here to be what it says (a destination can never be
 * an option, a remote path never carries a quote).
 */
import { z } from 'zod';
import type { ErrorShape } from './errors.js';
import { absolutePathSchema } from './machine-config.js';

/** "This computer": never a remote host's name. */
export const LOCAL_HOST = 'local';

/** This VMDesk's version (package.json's; a unit test keeps them equal). */
export const VMDESK_VERSION = '0.1.0';

/**
 * Which API a VMDesk speaks over `vmdesk stdio`. Raised when an operation changes incompatibly; a
 * remote older than `OLDEST_REMOTE_API` is refused with what to upgrade.
 */
export const API_VERSION = 1;
export const OLDEST_REMOTE_API = 1;

export const hostNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'A host name is 1 to 63 letters, digits, ".", "_" or "-", and starts with a letter or a digit',
  )
  .refine((n) => n !== LOCAL_HOST, `"${LOCAL_HOST}" is this computer's name`);

/**
 * `[user@]host`, an alias of ~/.ssh/config, `user@[v6addr]` or `ssh://user@host:port`. Never starts
 * with "-" (ssh would read it as an option: `-oProxyCommand=...`), never holds a space, a quote or a
 * control character.
 */
export const sshDestinationSchema = z
  .string()
  .min(1, 'An SSH destination is needed (user@host, or an alias of ~/.ssh/config)')
  .max(255, 'An SSH destination is at most 255 characters')
  .refine((d) => !d.startsWith('-'), 'An SSH destination cannot start with "-" (ssh would take it for an option)')
  .refine(
    (d) => /^(ssh:\/\/)?[A-Za-z0-9._%+@:[\]-]+$/.test(d),
    'An SSH destination is [user@]host, an alias of ~/.ssh/config or ssh://user@host:port (no spaces, quotes or other symbols)',
  );

const printable = (s: string): boolean => !/[\u0000-\u001f\u007f]/.test(s);

/** The remote library (VMDESK_HOME there): an absolute POSIX path, single-quoted for the remote shell. */
export const remoteHomeSchema = z
  .string()
  .max(1024)
  .refine((p) => p.startsWith('/'), 'The remote library must be an absolute path')
  .refine(printable, 'No control characters in the remote library path')
  .refine((p) => !/['\\]/.test(p), 'The remote library path cannot contain a quote or a backslash');

/**
 * The command that runs VMDesk on the remote host (default `vmdesk`), as the user would type it in
 * the remote shell: it is the user's own command on their own account, like ssh's RemoteCommand.
 */
export const remoteCommandSchema = z
  .string()
  .min(1, 'The remote command cannot be empty')
  .max(1024, 'The remote command is at most 1024 characters')
  .refine(printable, 'No control characters (no newline) in the remote command');

export const hostKeyFingerprintSchema = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'A host key fingerprint looks like SHA256: followed by 43 characters, as ssh shows it');

export const hostEntrySchema = z
  .object({
    name: hostNameSchema,
    destination: sshDestinationSchema,
    port: z.int('The port must be a whole number').min(1).max(65535, 'A port is 1 to 65535').optional(),
    /** A private key file on this computer (ssh -i); keys in the agent are tried as well. */
    identity: absolutePathSchema.optional(),
    remoteHome: remoteHomeSchema.optional(),
    remoteCommand: remoteCommandSchema.optional(),
  })
  .strict();
export type HostEntry = z.infer<typeof hostEntrySchema>;

export const addHostInputSchema = hostEntrySchema
  .extend({
    /** The fingerprint the user confirmed for a host key not yet in known_hosts. */
    acceptHostKey: hostKeyFingerprintSchema.optional(),
  })
  .strict();
export type AddHostInput = z.input<typeof addHostInputSchema>;

export type HostState = 'local' | 'connecting' | 'connected' | 'disconnected' | 'failed';

/** What a remote `vmdesk stdio` says first. */
export interface RemoteHello {
  product: 'vmdesk';
  version: string;
  api: number;
  /** The oldest API of a connecting VMDesk this one still serves. */
  oldestClientApi: number;
  /** The remote host's own name (os.hostname()). */
  hostname: string;
  /** Its library (VMDESK_HOME) and whether VMDesk can write to it. */
  home: string;
  writable: boolean;
  writableError?: string;
}

export interface HostSummary {
  name: string;
  /** True for this computer. */
  local: boolean;
  entry?: HostEntry;
  state: HostState;
  /** Why it is disconnected or failed. */
  error?: ErrorShape;
  /** When the next reconnection is tried (while disconnected by a fault). */
  retryAt?: string;
  remote?: RemoteHello;
}

export interface HostKeyInfo {
  /** ED25519, ECDSA, RSA... */
  type: string;
  fingerprint: string;
}

export interface HostKeyProbe {
  /** What the host presented, as `ssh-keygen -l` shows it. */
  keys: HostKeyInfo[];
  /** Already in the user's known_hosts (and matching). */
  known: boolean;
}

/** The host details pane: one host's VMDesk, QEMU, resources and machines. */
export interface HostDetails {
  hostname: string;
  vmdeskVersion: string;
  api: number;
  qemuVersion: string | null;
  accel: 'kvm' | 'tcg' | null;
  kvmReason?: string;
  cpus: number;
  memoryMiB: number;
  freeMemoryMiB: number;
  library: string;
  libraryFreeBytes: number | null;
  machines: number;
  machinesRunning: number;
}
