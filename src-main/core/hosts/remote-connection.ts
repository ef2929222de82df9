/**
 * One SSH connection to a remote VMDesk: `ssh -M` running `vmdesk stdio` there, whose stdin and
 * stdout carry the API contract one JSON message per line (the WebSocket's messages), and whose
 * control socket lets console streams ride the same connection as unix-socket forwards; a
 * migration's bulk streams take a second connection of their own (forwardBulkSocket). Nothing
 * listens on a TCP port on either side.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiEventMessage, ApiEventName, ApiMethod } from '../../api/contract.js';
import { API_EVENTS } from '../../api/contract.js';
import { VmdeskError, isErrorShape } from '../../api/errors.js';
import { API_VERSION, OLDEST_REMOTE_API, type HostEntry, type RemoteHello } from '../../api/hosts.js';
import { which } from '../host/capabilities.js';
import { SSH_BINARY, configArgs, remoteCommandLine, sshArgs } from './ssh-args.js';
import { knownHostsOption } from './known-hosts.js';
import { runProgram, sshFailure, sshWords } from './ssh-run.js';

/** Larger lines (a 16 MiB log, base64) are still fine; past this the link is broken or hostile. */
const MAX_LINE = 64 * 1024 * 1024;
const HELLO_TIMEOUT_MS = 60_000;
/** How long the bulk connection may take to log in before its streams ride the main one instead. */
const BULK_CONNECT_TIMEOUT_MS = 20_000;

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export interface RemoteConnectionEvents {
  event: [name: ApiEventName, data: unknown];
  closed: [error: VmdeskError];
}

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** A scratch known_hosts file with a key the user has just confirmed. */
  extraKnownHosts?: string;
  userKnownHosts?: readonly string[];
  /** Where the control socket and forwarded sockets go (short: unix socket paths are limited). */
  socketDir: string;
}

function isHello(value: unknown): value is { hello: RemoteHello } {
  const hello = (value as { hello?: RemoteHello } | null)?.hello;
  return typeof hello === 'object' && hello !== null && hello.product === 'vmdesk' && typeof hello.api === 'number';
}

/** Why a remote VMDesk that answered is not one this VMDesk can drive, or null. */
export function helloProblem(hostName: string, hello: RemoteHello): VmdeskError | null {
  if (hello.api < OLDEST_REMOTE_API)
    return new VmdeskError(
      'HOST_UNSUPPORTED',
      `${hostName} runs VMDesk ${hello.version}, which speaks API ${hello.api}; this VMDesk needs API ${OLDEST_REMOTE_API} or newer: upgrade VMDesk on ${hostName}.`,
    );
  if (API_VERSION < hello.oldestClientApi)
    return new VmdeskError(
      'HOST_UNSUPPORTED',
      `${hostName} runs VMDesk ${hello.version}, which no longer serves API ${API_VERSION}: upgrade VMDesk on this computer.`,
    );
  if (!hello.writable)
    return new VmdeskError(
      'IO',
      `The VMDesk library on ${hostName} (${hello.home}) is not writable${hello.writableError ? `: ${hello.writableError}` : ''}. ` +
        'Fix its permissions there, or choose another with the remote library setting.',
    );
  return null;
}

/** What ssh or the remote shell said when the session ended before the remote VMDesk greeted us. */
function failureBeforeHello(hostName: string, entry: HostEntry, code: number | null, stderr: string): VmdeskError {
  const words = sshWords(stderr);
  if (code === 255) return sshFailure(hostName, entry.destination, stderr);
  if (code === 127 || /command not found|No such file or directory|not found/i.test(stderr))
    return new VmdeskError(
      'HOST_UNSUPPORTED',
      `VMDesk is not installed on ${hostName}, or not where it was looked for (${words || `exit ${code}`}). ` +
        `Install VMDesk there, or give the command that runs it (remote command).`,
    );
  if (/unknown command 'stdio'/.test(stderr))
    return new VmdeskError(
      'HOST_UNSUPPORTED',
      `The VMDesk on ${hostName} is too old to be driven from another computer: upgrade VMDesk on ${hostName}.`,
    );
  return new VmdeskError(
    'UNREACHABLE',
    `The VMDesk on ${hostName} stopped before it answered (exit ${code ?? 'by signal'}): ${words || 'no message'}`,
  );
}

export class RemoteConnection extends EventEmitter<RemoteConnectionEvents> {
  readonly controlPath: string;
  hello: RemoteHello | null = null;
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedWith: VmdeskError | null = null;
  private stderr = '';
  private readonly forwards = new Map<string, Promise<string>>();
  private forwardCount = 0;
  /** The host-key options the main connection was made with: the bulk one checks the same. */
  private knownHosts: string[] = [];
  /** The bulk connection's control socket once it is up, or null when it could not be made. */
  private bulk: Promise<string | null> | null = null;
  private bulkChild: ChildProcess | null = null;
  private readonly bulkForwards = new Map<string, Promise<string>>();

  constructor(
    readonly hostName: string,
    readonly entry: HostEntry,
    private readonly options: ConnectOptions,
  ) {
    super();
    this.controlPath = path.join(options.socketDir, 'ctl');
  }

  get open(): boolean {
    return this.hello !== null && this.closedWith === null;
  }

  /** Starts ssh and waits for the remote VMDesk's hello; throws what went wrong, with ssh's words. */
  async connect(): Promise<RemoteHello> {
    fs.mkdirSync(this.options.socketDir, { recursive: true, mode: 0o700 });
    const env = this.options.env ?? process.env;
    const knownHosts = this.options.extraKnownHosts
      ? [knownHostsOption([...(this.options.userKnownHosts ?? []), this.options.extraKnownHosts])]
      : [];
    this.knownHosts = knownHosts;
    const args = sshArgs(this.entry, {
      env,
      flags: ['-T', '-M', '-S', this.controlPath],
      options: ['ControlPersist=no', 'StrictHostKeyChecking=yes', ...knownHosts],
      command: remoteCommandLine(this.entry, ['stdio']),
    });
    const child = spawn(SSH_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'], env, detached: false });
    this.child = child;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-16 * 1024);
    });
    child.stdin.on('error', () => undefined);

    return new Promise<RemoteHello>((resolve, reject) => {
      let buffer = '';
      let greeted = false;
      const timer = setTimeout(() => {
        if (greeted) return;
        reject(
          new VmdeskError(
            'TIMEOUT',
            `${this.hostName} did not answer within ${HELLO_TIMEOUT_MS / 1000} s: ${sshWords(this.stderr) || 'no message'}`,
          ),
        );
        child.kill('SIGTERM');
      }, HELLO_TIMEOUT_MS);
      const onLine = (line: string): void => {
        if (!line.trim()) return;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          return;
        }
        if (!greeted) {
          if (!isHello(message)) return;
          greeted = true;
          clearTimeout(timer);
          const problem = helloProblem(this.hostName, message.hello);
          if (problem) {
            reject(problem);
            child.kill('SIGTERM');
            return;
          }
          this.hello = message.hello;
          resolve(message.hello);
          return;
        }
        this.onMessage(message);
      };
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          onLine(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
        }
        if (buffer.length > MAX_LINE) {
          this.fail(new VmdeskError('UNREACHABLE', `${this.hostName} sent a message over ${MAX_LINE} bytes: the link is closed`));
          child.kill('SIGTERM');
        }
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const error =
          err.code === 'ENOENT'
            ? new VmdeskError('HOST_UNSUPPORTED', 'ssh is not installed on this computer (install openssh-client)')
            : new VmdeskError('UNREACHABLE', `Cannot run ssh: ${err.message}`);
        this.fail(error);
        if (!greeted) reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const error = greeted
          ? new VmdeskError(
              'UNREACHABLE',
              `The connection to ${this.hostName} was lost${sshWords(this.stderr) ? `: ${sshWords(this.stderr).split('\n').pop()}` : ''}`,
            )
          : failureBeforeHello(this.hostName, this.entry, code, this.stderr);
        this.fail(error);
        if (!greeted) reject(error);
      });
    });
  }

  private onMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (typeof m.event === 'string') {
      if ((API_EVENTS as readonly string[]).includes(m.event)) this.emit('event', m.event as ApiEventName, (m as ApiEventMessage).data);
      return;
    }
    if (typeof m.id !== 'number') return;
    const waiter = this.pending.get(m.id);
    if (!waiter) return;
    this.pending.delete(m.id);
    if ('error' in m) {
      const e = m.error;
      waiter.reject(
        isErrorShape(e)
          ? new VmdeskError(e.code, e.message, e.details)
          : new VmdeskError('INTERNAL', `${this.hostName} answered ${waiter.method} with a malformed error`),
      );
    } else waiter.resolve(m.result);
  }

  /** One operation of the contract, run by the remote VMDesk. */
  call(method: ApiMethod, args: readonly unknown[]): Promise<unknown> {
    const child = this.child;
    if (!this.open || !child) return Promise.reject(this.closedWith ?? new VmdeskError('UNREACHABLE', `${this.hostName} is not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      child.stdin.write(JSON.stringify({ id, method, args }) + '\n');
    });
  }

  private fail(error: VmdeskError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const [, w] of this.pending)
      w.reject(
        new VmdeskError(
          error.code,
          `${error.message} during ${w.method}. What ${this.hostName} was doing for it finishes or is cancelled there; nothing is left half-made.`,
          error.details,
        ),
      );
    this.pending.clear();
    this.forwards.clear();
    this.bulkForwards.clear();
    this.bulkChild?.kill('SIGTERM');
    fs.rmSync(this.options.socketDir, { recursive: true, force: true });
    this.emit('closed', error);
  }

  /**
   * A local unix socket forwarded through this connection to `remotePath` on the remote host
   * (`ssh -O forward -L local:remote` on the control socket); one per remote socket, kept while
   * the connection lives. ssh creates it 0600 (StreamLocalBindMask).
   */
  forwardSocket(remotePath: string): Promise<string> {
    return this.forwardOn(this.controlPath, this.forwards, remotePath);
  }

  /**
   * As forwardSocket, for a bulk stream (a migration's RAM, NBD and files): through a second
   * connection to the host, its own TCP connection and sshd process, made when first needed and kept
   * while this one lives. Sharing the connection of `vmdesk stdio` cost a migration's RAM pre-copy
   * 300–600 ms here when the two hosts share the CPUs (bench/RESULTS.md, 2026-12-04). Where that
   * connection cannot be made (BatchMode: it never prompts), the stream rides the main one.
   */
  async forwardBulkSocket(remotePath: string): Promise<string> {
    const control = await this.bulkConnection();
    return control ? this.forwardOn(control, this.bulkForwards, remotePath) : this.forwardSocket(remotePath);
  }

  /** Starts the bulk connection ahead of its first stream (its login then overlaps other work). */
  openBulk(): void {
    this.bulkConnection().catch(() => undefined);
  }

  private bulkConnection(): Promise<string | null> {
    // (While the main connection logs in too: `connect({ bulk })` makes both at once.)
    if (this.closedWith || !this.child)
      return Promise.reject(this.closedWith ?? new VmdeskError('UNREACHABLE', `${this.hostName} is not connected`));
    this.bulk ??= this.startBulk();
    return this.bulk;
  }

  private async startBulk(): Promise<string | null> {
    const control = path.join(this.options.socketDir, 'bulk');
    const env = this.options.env ?? process.env;
    // Its session is a `cat` whose input is a pipe from here: it holds the connection open, and ends
    // it when VMDesk ends (the pipe closes); setpriv also has the kernel end ssh with its parent.
    const args = sshArgs(this.entry, {
      env,
      flags: ['-T', '-M', '-S', control],
      options: ['ControlPersist=no', 'StrictHostKeyChecking=yes', ...this.knownHosts],
      command: 'cat',
    });
    const setpriv = await which('setpriv', env);
    const [command, argv] = setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', SSH_BINARY, ...args]] : [SSH_BINARY, args];
    if (this.closedWith) return null;
    return new Promise<string | null>((resolve) => {
      const child = spawn(command, argv, { stdio: ['pipe', 'ignore', 'ignore'], env, detached: false });
      child.stdin?.on('error', () => undefined);
      this.bulkChild = child;
      const started = Date.now();
      let up = false;
      const ended = (): void => {
        clearInterval(poll);
        this.bulkChild = null;
        this.bulkForwards.clear();
        // One that was up and ended (a cut link) is made again when next needed; one that never
        // came up is not tried again on this connection: its streams ride the main one.
        if (up) this.bulk = null;
        resolve(null);
      };
      // ssh makes its control socket once it has logged in.
      const poll = setInterval(() => {
        if (fs.existsSync(control)) {
          clearInterval(poll);
          up = true;
          resolve(control);
        } else if (Date.now() - started > BULK_CONNECT_TIMEOUT_MS) child.kill('SIGTERM');
      }, 10);
      child.once('error', ended);
      child.once('exit', ended);
    });
  }

  private forwardOn(control: string, forwards: Map<string, Promise<string>>, remotePath: string): Promise<string> {
    if (!this.open) return Promise.reject(this.closedWith ?? new VmdeskError('UNREACHABLE', `${this.hostName} is not connected`));
    let forwarded = forwards.get(remotePath);
    if (!forwarded) {
      const local = path.join(this.options.socketDir, `f${++this.forwardCount}.sock`);
      const env = this.options.env ?? process.env;
      forwarded = runProgram(
        SSH_BINARY,
        [...configArgs(env), '-S', control, '-O', 'forward', '-L', `${local}:${remotePath}`, '--', this.entry.destination],
        { env, timeoutMs: 15_000 },
      ).then((run) => {
        if (run.code !== 0) {
          forwards.delete(remotePath);
          throw new VmdeskError(
            'UNREACHABLE',
            `Cannot forward a stream through the SSH connection to ${this.hostName}: ${sshWords(run.stderr)}`,
          );
        }
        return local;
      });
      forwards.set(remotePath, forwarded);
    }
    return forwarded;
  }

  /** Ends the connection (the remote VMDesk sees its input close and exits; its machines run on). */
  close(): void {
    this.fail(new VmdeskError('UNREACHABLE', `Disconnected from ${this.hostName}`));
    this.child?.kill('SIGTERM');
  }

  /** The ssh process's pid (tests cut the link by killing it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }
}
