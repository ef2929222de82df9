/**
 * Running ssh and its helpers once (ssh -G, a host key probe, -O forward) and reading what ssh said
 * when it failed: its exit status 255 is its own error, its words on stderr say which.
 */
import { spawn } from 'node:child_process';
import { VmdeskError } from '../../api/errors.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runProgram(
  binary: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1024 * 1024) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT'
          ? new VmdeskError('HOST_UNSUPPORTED', `${binary} is not installed on this computer (install openssh-client)`)
          : err,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** ssh's own lines, without the blank ones and the banner of `@`s. */
export function sshWords(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim())
    .filter((l) => l && !/^@+$/.test(l))
    .join('\n')
    .slice(0, 4000);
}

export function hostKeyChanged(stderr: string): boolean {
  return /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed|host key mismatch/i.test(stderr);
}

export function hostKeyUnknown(stderr: string): boolean {
  return /No .* host key is known for|Host key verification failed/.test(stderr) && !hostKeyChanged(stderr);
}

/**
 * An ssh failure (exit 255) as a VMDesk error: the host key (changed: refused with ssh's words), the
 * login refused, the name unknown, the network — each with what to do.
 */
export function sshFailure(hostName: string, destination: string, stderr: string): VmdeskError {
  const words = sshWords(stderr) || 'ssh failed without a message';
  if (hostKeyChanged(stderr))
    return new VmdeskError('HOST_KEY', `The host key of ${destination} has changed: VMDesk refuses to connect, as ssh does.\n${words}`, {
      changed: true,
    });
  if (hostKeyUnknown(stderr))
    return new VmdeskError('HOST_KEY', `The host key of ${destination} is not known: confirm its fingerprint first.\n${words}`, {
      unknown: true,
    });
  if (/Permission denied|Too many authentication failures|no supported authentication methods/i.test(stderr))
    return new VmdeskError(
      'UNREACHABLE',
      `${destination} refused the login (${words.split('\n').pop() ?? words}). VMDesk logs in with your SSH keys and never asks for ` +
        'or stores a password: add your key to the agent (ssh-add) or name it with --identity FILE.',
    );
  if (/Could not resolve hostname|Name or service not known|nodename nor servname/i.test(stderr))
    return new VmdeskError('UNREACHABLE', `Unknown host ${destination}: ${words}`);
  return new VmdeskError('UNREACHABLE', `Cannot reach ${hostName} (${destination}): ${words}`);
}
