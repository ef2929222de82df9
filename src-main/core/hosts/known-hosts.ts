/**
 * Host keys, the way ssh itself treats them: a key in the user's known_hosts is used; a changed key
 * is refused with ssh's own words; an unknown key is never accepted silently. Its fingerprint is
 * read by letting ssh record the key in a scratch known_hosts file (no login is attempted), shown to
 * the user, and only once the user confirmed that fingerprint and the connection succeeded are ssh's
 * own lines for it appended to the user's known_hosts — so plain `ssh HOST` trusts it too.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { HostEntry, HostKeyInfo } from '../../api/hosts.js';
import { SSH_BINARY, sshArgs, sshConfigQueryArgs } from './ssh-args.js';
import { hostKeyChanged, hostKeyUnknown, runProgram, sshFailure } from './ssh-run.js';

/** Every way of logging in switched off: ssh stops right after the key exchange. */
const NO_LOGIN = [
  'PubkeyAuthentication=no',
  'PasswordAuthentication=no',
  'KbdInteractiveAuthentication=no',
  'GSSAPIAuthentication=no',
  'HostbasedAuthentication=no',
  'NumberOfPasswordPrompts=0',
];

/** `~` as ssh expands it: the passwd entry's home, not $HOME. */
function expandTilde(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.userInfo().homedir, file.slice(1)) : file;
}

/** What `ssh -G` says about an entry: its lowercase keys, values as printed (a key may repeat). */
export async function effectiveSshConfig(entry: HostEntry, env: NodeJS.ProcessEnv = process.env): Promise<Map<string, string>> {
  const run = await runProgram(SSH_BINARY, sshConfigQueryArgs(entry, env), { env, timeoutMs: 10_000 });
  if (run.code !== 0)
    throw new VmdeskError('INVALID_INPUT', `ssh cannot read its configuration for ${entry.destination}: ${run.stderr.trim()}`);
  const config = new Map<string, string>();
  for (const line of run.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0 && !config.has(line.slice(0, space))) config.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  return config;
}

/** The user's known_hosts files for this entry, first the one ssh writes to. */
export async function userKnownHostsFiles(entry: HostEntry, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const value = (await effectiveSshConfig(entry, env)).get('userknownhostsfile') ?? '~/.ssh/known_hosts';
  return value.split(/\s+/).filter(Boolean).map(expandTilde);
}

/** An `-o` value with several files: each quoted for ssh's own parser when it holds a space. */
export function knownHostsOption(files: readonly string[]): string {
  return `UserKnownHostsFile=${files.map((f) => (/\s/.test(f) ? `"${f}"` : f)).join(' ')}`;
}

export type HostKeyStatus = 'known' | 'unknown';

/**
 * Whether the user's known_hosts holds the key the destination presents. A changed key throws
 * HOST_KEY with ssh's words; a host that cannot be reached throws UNREACHABLE.
 */
export async function checkHostKey(name: string, entry: HostEntry, env: NodeJS.ProcessEnv = process.env): Promise<HostKeyStatus> {
  const run = await runProgram(SSH_BINARY, sshArgs(entry, { env, options: ['StrictHostKeyChecking=yes', ...NO_LOGIN], command: 'true' }), {
    env,
  });
  if (hostKeyChanged(run.stderr)) throw sshFailure(name, entry.destination, run.stderr);
  if (hostKeyUnknown(run.stderr)) return 'unknown';
  // The key matched and the login was refused, as asked: the host is known.
  if (/Permission denied|no supported authentication|No more authentication methods/i.test(run.stderr)) return 'known';
  if (run.code === 0) return 'known';
  throw sshFailure(name, entry.destination, run.stderr);
}

export interface HostKeyProbeResult {
  keys: HostKeyInfo[];
  /** ssh's known_hosts lines for the key, in a scratch file: kept until trusted or dropped. */
  scratchFile: string;
  dispose(): Promise<void>;
}

/** `256 SHA256:abc... [host]:2222 (ED25519)` → { type, fingerprint }. */
export function parseKeygenFingerprints(output: string): HostKeyInfo[] {
  const keys: HostKeyInfo[] = [];
  for (const line of output.split('\n')) {
    const m = /^\d+\s+(SHA256:[A-Za-z0-9+/]{43})\s.*\(([A-Z0-9-]+)\)\s*$/.exec(line.trim());
    if (m?.[1] && m[2] && !keys.some((k) => k.fingerprint === m[1])) keys.push({ type: m[2], fingerprint: m[1] });
  }
  return keys;
}

/** The key the destination presents, recorded by ssh in a scratch file under `scratchRoot`. */
export async function probeHostKey(
  name: string,
  entry: HostEntry,
  scratchRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<HostKeyProbeResult> {
  await fs.mkdir(scratchRoot, { recursive: true, mode: 0o700 });
  const dir = await fs.mkdtemp(path.join(scratchRoot, 'probe-'));
  const dispose = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  try {
    const scratchFile = path.join(dir, 'known_hosts');
    const run = await runProgram(
      SSH_BINARY,
      sshArgs(entry, {
        env,
        options: [knownHostsOption([scratchFile]), 'GlobalKnownHostsFile=/dev/null', 'StrictHostKeyChecking=accept-new', ...NO_LOGIN],
        command: 'true',
      }),
      { env },
    );
    const recorded = await fs.readFile(scratchFile, 'utf8').catch(() => '');
    if (!recorded.trim()) throw sshFailure(name, entry.destination, run.stderr);
    const keygen = await runProgram('ssh-keygen', ['-l', '-E', 'sha256', '-f', scratchFile], { env });
    const keys = parseKeygenFingerprints(keygen.stdout);
    if (keys.length === 0)
      throw new VmdeskError('INTERNAL', `ssh-keygen could not read the host key of ${entry.destination}: ${keygen.stderr.trim()}`);
    return { keys, scratchFile, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** The message ssh shows for an unknown key, with what VMDesk asks for instead of "yes". */
export function unknownKeyMessage(entry: HostEntry, keys: readonly HostKeyInfo[]): string {
  const shown = keys.map((k) => `${k.type} key fingerprint is ${k.fingerprint}.`).join('\n');
  return (
    `The authenticity of host '${entry.destination}' can't be established.\n${shown}\n` +
    `Check it against the host's own key (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub there), then confirm it` +
    ` (--accept-host-key ${keys[0]?.fingerprint ?? 'SHA256:…'}).`
  );
}

/** Append ssh's lines for a confirmed key to the user's known_hosts (created 0600 in a 0700 folder). */
export async function trustHostKey(probe: HostKeyProbeResult, entry: HostEntry, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const [file] = await userKnownHostsFiles(entry, env);
  if (!file) throw new VmdeskError('INTERNAL', 'ssh names no known_hosts file');
  const lines = await fs.readFile(probe.scratchFile, 'utf8');
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const existing = await fs.readFile(file, 'utf8').catch(() => '');
  const separator = existing && !existing.endsWith('\n') ? '\n' : '';
  await fs.appendFile(file, separator + lines.trimEnd() + '\n', { mode: 0o600 });
  return file;
}
