/**
 * The argv of every ssh VMDesk runs. OpenSSH's own client, not an SSH library: the user's
 * ~/.ssh/config (aliases, ProxyJump, IdentityFile, certificates), ssh-agent, FIDO keys and
 * known_hosts keep working exactly as with `ssh` itself. What VMDesk adds only keeps ssh from
 * prompting (no terminal to prompt on) or doing what the user's config asks for interactive logins
 * (forwarding the agent, X11 or ports to a VMDesk session).
 */
import type { HostEntry } from '../../api/hosts.js';

export const SSH_BINARY = 'ssh';

/** ssh's options that every VMDesk connection uses, whatever the user's config says. */
const SESSION_OPTIONS = [
  'BatchMode=yes',
  'ForwardAgent=no',
  'ForwardX11=no',
  'ClearAllForwardings=yes',
  'PermitLocalCommand=no',
  'RemoteCommand=none',
  'ServerAliveInterval=5',
  'ServerAliveCountMax=3',
  'ConnectTimeout=15',
  'ExitOnForwardFailure=yes',
  'LogLevel=ERROR',
];

/** `-F FILE` when VMDESK_SSH_CONFIG names another config than ~/.ssh/config. */
export function configArgs(env: NodeJS.ProcessEnv): string[] {
  return env.VMDESK_SSH_CONFIG ? ['-F', env.VMDESK_SSH_CONFIG] : [];
}

/** Options of a host entry: -p and -i; the destination itself comes after `--`. */
function entryArgs(entry: HostEntry): string[] {
  return [...(entry.port ? ['-p', String(entry.port)] : []), ...(entry.identity ? ['-i', entry.identity] : [])];
}

/** POSIX single quotes: the remote login shell sees the string as one word, whatever it holds. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What the remote shell runs: `[env VMDESK_HOME='DIR'] <remote command> ARGS...`. */
export function remoteCommandLine(entry: Pick<HostEntry, 'remoteCommand' | 'remoteHome'>, args: readonly string[]): string {
  const home = entry.remoteHome ? `env VMDESK_HOME=${shellQuote(entry.remoteHome)} ` : '';
  return `${home}${entry.remoteCommand ?? 'vmdesk'} ${args.map(shellQuote).join(' ')}`.trimEnd();
}

export interface SshArgsOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra `-o` options (host key checking of a probe, a control master...). */
  options?: readonly string[];
  /** Flags before the destination: -M -S, -O forward, -t... */
  flags?: readonly string[];
  /** The remote command line; none for -O requests. */
  command?: string;
  /** A terminal on the remote side (an interactive `vmdesk --host H console`); none otherwise. */
  tty?: boolean;
}

/**
 * `ssh [flags] [-F cfg] [-p N] [-i key] -o ... -- DESTINATION [command]`. The `--` ends ssh's
 * options: a destination that slipped past validation still could not be read as `-oProxyCommand`.
 */
export function sshArgs(entry: HostEntry, o: SshArgsOptions = {}): string[] {
  const env = o.env ?? process.env;
  const args = [...(o.flags ?? []), ...configArgs(env), ...entryArgs(entry)];
  for (const option of [...SESSION_OPTIONS, `RequestTTY=${o.tty ? 'force' : 'no'}`, ...(o.options ?? [])]) args.push('-o', option);
  args.push('--', entry.destination);
  if (o.command !== undefined) args.push(o.command);
  return args;
}

/** `ssh -G`: the configuration ssh would use for this entry (HostName, User, known_hosts files...). */
export function sshConfigQueryArgs(entry: HostEntry, env: NodeJS.ProcessEnv = process.env): string[] {
  return ['-G', ...configArgs(env), ...entryArgs(entry), '--', entry.destination];
}
