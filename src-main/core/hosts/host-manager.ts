/**
 * The remote hosts of a long-lived front end (the app, `vmdesk serve`): one SSH connection each,
 * reconnected with backoff when it drops (the remote machines are the remote host's processes and
 * run on), its events forwarded with the host's name, its console streams forwarded through it.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { ApiEventName, ApiMethod } from '../../api/contract.js';
import { VmdeskError } from '../../api/errors.js';
import {
  LOCAL_HOST,
  addHostInputSchema,
  hostEntrySchema,
  type AddHostInput,
  type HostEntry,
  type HostKeyProbe,
  type HostState,
  type HostSummary,
} from '../../api/hosts.js';
import type { TaskInfo } from '../../api/types.js';
import { parseInput } from '../../api/validation.js';
import { runtimeRoot } from '../paths.js';
import type { ConsoleKind } from '../console/stream-target.js';
import { HostRegistry } from './host-registry.js';
import {
  checkHostKey,
  probeHostKey,
  trustHostKey,
  unknownKeyMessage,
  userKnownHostsFiles,
  type HostKeyProbeResult,
} from './known-hosts.js';
import { RemoteConnection } from './remote-connection.js';

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

interface Link {
  entry: HostEntry;
  connection: RemoteConnection | null;
  state: Exclude<HostState, 'local'>;
  error?: VmdeskError;
  /** The user wants it connected: a lost link is retried. */
  wanted: boolean;
  retries: number;
  retryAt?: Date;
  retryTimer?: NodeJS.Timeout;
  attempt?: Promise<void>;
  /** Its bulk connection is made alongside the main one (a `vmdesk migrate` about to need it). */
  bulk?: boolean;
}

export interface HostManagerEvents {
  hosts: [];
  /** An event of a remote core, with the host it came from. */
  event: [host: string, name: ApiEventName, data: unknown];
}

export interface HostManagerOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
}

export class HostManager extends EventEmitter<HostManagerEvents> {
  readonly registry: HostRegistry;
  private readonly env: NodeJS.ProcessEnv;
  private readonly links = new Map<string, Link>();
  private readonly socketRoot: string;
  private closed = false;

  constructor(options: HostManagerOptions) {
    super();
    this.env = options.env ?? process.env;
    this.registry = new HostRegistry(options.home);
    this.socketRoot = path.join(runtimeRoot(this.env), 'ssh');
  }

  /** A short socket folder per connection attempt: unix socket paths are limited to 107 bytes. */
  private socketDir(name: string): string {
    const tag = crypto.createHash('sha256').update(`${name}\0${process.pid}\0${crypto.randomUUID()}`).digest('hex').slice(0, 10);
    return path.join(this.socketRoot, tag);
  }

  private summary(link: Link): HostSummary {
    return {
      name: link.entry.name,
      local: false,
      entry: link.entry,
      state: link.state,
      ...(link.error ? { error: link.error.toJSON() } : {}),
      ...(link.retryAt && link.state === 'disconnected' && link.wanted ? { retryAt: link.retryAt.toISOString() } : {}),
      ...(link.connection?.hello ? { remote: link.connection.hello } : {}),
    };
  }

  /** Entries added by another front end (or the CLI) get a link the first time they are seen. */
  private async sync(): Promise<void> {
    const entries = await this.registry.list();
    for (const entry of entries) {
      if (!this.links.has(entry.name))
        this.links.set(entry.name, { entry, connection: null, state: 'disconnected', wanted: false, retries: 0 });
    }
    for (const [name, link] of this.links) if (!entries.some((e) => e.name === name)) this.drop(link);
  }

  async list(): Promise<HostSummary[]> {
    await this.sync();
    return [{ name: LOCAL_HOST, local: true, state: 'local', remote: undefined }, ...[...this.links.values()].map((l) => this.summary(l))];
  }

  /** Connect every known host in the background (the app and `serve` at start). */
  async connectAll(): Promise<void> {
    await this.sync();
    for (const link of this.links.values()) {
      link.wanted = true;
      if (!link.connection && !link.attempt) void this.attempt(link);
    }
  }

  private changed(): void {
    this.emit('hosts');
  }

  private attempt(link: Link): Promise<void> {
    if (link.attempt) return link.attempt;
    clearTimeout(link.retryTimer);
    link.state = 'connecting';
    this.changed();
    const connection = new RemoteConnection(link.entry.name, link.entry, { env: this.env, socketDir: this.socketDir(link.entry.name) });
    const connecting = connection.connect();
    if (link.bulk) connection.openBulk();
    link.attempt = connecting
      .then(
        () => {
          if (!link.wanted || this.closed || this.links.get(link.entry.name) !== link) {
            connection.close();
            return;
          }
          this.adopt(link, connection);
        },
        (err: unknown) => {
          link.error = err instanceof VmdeskError ? err : new VmdeskError('UNREACHABLE', String(err));
          // A changed host key needs the user: retrying would only repeat ssh's refusal.
          if (link.error.code === 'HOST_KEY') {
            link.state = 'failed';
            link.wanted = false;
          } else this.lost(link);
          this.changed();
        },
      )
      .finally(() => {
        link.attempt = undefined;
      });
    return link.attempt;
  }

  private adopt(link: Link, connection: RemoteConnection): void {
    link.connection = connection;
    link.state = 'connected';
    link.error = undefined;
    link.retries = 0;
    link.retryAt = undefined;
    // Tasks of that host seen running: if the link drops, their viewers learn so instead of waiting forever.
    const running = new Map<string, TaskInfo>();
    connection.on('event', (name, data) => {
      if (name === 'task') {
        const task = data as TaskInfo;
        if (task.state === 'running') running.set(task.id, task);
        else running.delete(task.id);
      }
      this.emit('event', link.entry.name, name, data);
    });
    connection.once('closed', (error) => {
      for (const task of running.values())
        this.emit('event', link.entry.name, 'task', {
          ...task,
          state: 'failed',
          endedAt: new Date().toISOString(),
          message: error.message,
          error: {
            code: 'UNREACHABLE',
            message: `${error.message}. ${link.entry.name} cancels what this connection started when it sees the link gone: a cancelled task leaves nothing half-made.`,
          },
        } satisfies TaskInfo);
      running.clear();
      if (link.connection !== connection) return;
      link.connection = null;
      if (!link.wanted) {
        link.state = 'disconnected';
        link.error = undefined;
      } else {
        link.error = error;
        this.lost(link);
      }
      this.changed();
      this.emit('event', link.entry.name, 'machines', null);
    });
    this.changed();
    // Whatever changed there while we were away: the front ends list the host's machines again.
    this.emit('event', link.entry.name, 'machines', null);
  }

  /** Disconnected by a fault: try again after 1, 2, 4... up to 30 s. */
  private lost(link: Link): void {
    link.state = 'disconnected';
    if (!link.wanted || this.closed) return;
    const delay = Math.min(RETRY_FIRST_MS * 2 ** link.retries, RETRY_MAX_MS);
    link.retries += 1;
    link.retryAt = new Date(Date.now() + delay);
    clearTimeout(link.retryTimer);
    link.retryTimer = setTimeout(() => void this.attempt(link), delay);
    link.retryTimer.unref();
  }

  private async link(name: string): Promise<Link> {
    await this.sync();
    const link = this.links.get(name);
    if (!link) throw new VmdeskError('NOT_FOUND', `No host named ${name} (add it first: vmdesk hosts add)`);
    return link;
  }

  /**
   * Connects to `name`; with `bulk`, its bulk connection (forwardPath) is made at the same time, its
   * login overlapping the main one's, for a command that will move a machine there.
   */
  async connect(name: string, { bulk = false }: { bulk?: boolean } = {}): Promise<HostSummary> {
    const link = await this.link(name);
    link.wanted = true;
    if (bulk) {
      link.bulk = true;
      link.connection?.openBulk();
    }
    if (!link.connection?.open) await this.attempt(link);
    if (link.state !== 'connected') throw link.error ?? new VmdeskError('UNREACHABLE', `Cannot connect to ${name}`);
    return this.summary(link);
  }

  async disconnect(name: string): Promise<HostSummary> {
    const link = await this.link(name);
    link.wanted = false;
    clearTimeout(link.retryTimer);
    link.retryAt = undefined;
    link.connection?.close();
    link.connection = null;
    link.state = 'disconnected';
    link.error = undefined;
    this.changed();
    return this.summary(link);
  }

  private drop(link: Link): void {
    link.wanted = false;
    clearTimeout(link.retryTimer);
    link.connection?.close();
    this.links.delete(link.entry.name);
  }

  async remove(name: string): Promise<void> {
    const link = await this.link(name);
    await this.registry.remove(name);
    this.drop(link);
    this.changed();
  }

  /** The key a destination presents; writes nothing anywhere. */
  async probe(value: unknown): Promise<HostKeyProbe> {
    const entry = parseInput(hostEntrySchema, value, 'host');
    const known = (await checkHostKey(entry.name, entry, this.env)) === 'known';
    const probe = await probeHostKey(entry.name, entry, this.socketRoot, this.env);
    await probe.dispose();
    return { keys: probe.keys, known };
  }

  /**
   * Adds a host: its key known (or the fingerprint the user confirmed), the login accepted, VMDesk
   * there answering with a compatible API and a writable library. Only then are the entry and the
   * confirmed key saved: a refusal at any step changes nothing here or there.
   */
  async add(value: AddHostInput): Promise<HostSummary> {
    const { acceptHostKey, ...entry } = parseInput(addHostInputSchema, value, 'host');
    if ((await this.registry.list()).some((h) => h.name === entry.name))
      throw new VmdeskError('ALREADY_EXISTS', `A host named ${entry.name} already exists`);
    const probe = await this.confirmedKey(entry, acceptHostKey);
    try {
      const connection = new RemoteConnection(entry.name, entry, {
        env: this.env,
        socketDir: this.socketDir(entry.name),
        ...(probe ? { extraKnownHosts: probe.scratchFile, userKnownHosts: await userKnownHostsFiles(entry, this.env) } : {}),
      });
      await connection.connect();
      try {
        await this.registry.add(entry);
        if (probe)
          await trustHostKey(probe, entry, this.env).catch(async (err: unknown) => {
            await this.registry.remove(entry.name);
            throw err;
          });
      } catch (err) {
        connection.close();
        throw err;
      }
      const link: Link = { entry, connection: null, state: 'connecting', wanted: true, retries: 0 };
      this.links.get(entry.name)?.connection?.close();
      this.links.set(entry.name, link);
      this.adopt(link, connection);
      return this.summary(link);
    } finally {
      await probe?.dispose();
    }
  }

  /**
   * null when the user's known_hosts has the key; else the probed key, once the user's confirmed
   * fingerprint matches it. An unknown key without confirmation is refused with its fingerprint.
   */
  private async confirmedKey(entry: HostEntry, acceptHostKey: string | undefined): Promise<HostKeyProbeResult | null> {
    if ((await checkHostKey(entry.name, entry, this.env)) === 'known') return null;
    const probe = await probeHostKey(entry.name, entry, this.socketRoot, this.env);
    const refuse = async (error: VmdeskError): Promise<never> => {
      await probe.dispose();
      throw error;
    };
    if (!acceptHostKey)
      return refuse(
        new VmdeskError('HOST_KEY', unknownKeyMessage(entry, probe.keys), {
          unknown: true,
          keys: probe.keys,
          destination: entry.destination,
        }),
      );
    if (!probe.keys.some((k) => k.fingerprint === acceptHostKey))
      return refuse(
        new VmdeskError(
          'HOST_KEY',
          `${entry.destination} presents ${probe.keys.map((k) => `${k.type} ${k.fingerprint}`).join(', ')}, not the key confirmed (${acceptHostKey}): refused.`,
          { mismatch: true, keys: probe.keys },
        ),
      );
    return probe;
  }

  /** An operation of the contract, run on `name`; waits for a connection under way. */
  async call(name: string, method: ApiMethod, args: readonly unknown[]): Promise<unknown> {
    const link = await this.link(name);
    if (!link.connection?.open && link.attempt) await link.attempt;
    const connection = link.connection;
    if (!connection?.open) {
      const why = link.error ? `: ${link.error.message}` : link.wanted ? '' : ' (connect it first)';
      throw new VmdeskError('UNREACHABLE', `${name} is not connected${why}`);
    }
    return connection.call(method, args);
  }

  /** A local unix socket that reaches a remote machine's console or display through the SSH link. */
  async forwardStream(name: string, kind: ConsoleKind, uuid: string): Promise<string> {
    const { path: remotePath } = (await this.call(name, 'streamSocket', [kind, uuid])) as { path: string };
    const connection = (await this.link(name)).connection;
    if (!connection) throw new VmdeskError('UNREACHABLE', `${name} is not connected`);
    return connection.forwardSocket(remotePath);
  }

  /**
   * A local unix socket reaching any socket of a connected host, for a bulk stream (a migration's RAM,
   * NBD and files): through the host's bulk connection (RemoteConnection.forwardBulkSocket).
   */
  async forwardPath(name: string, remotePath: string): Promise<string> {
    const link = await this.link(name);
    if (!link.connection?.open) throw new VmdeskError('UNREACHABLE', `${name} is not connected`);
    return link.connection.forwardBulkSocket(remotePath);
  }

  /** Starts the bulk connection of a connected host ahead of a migration's streams (forwardPath). */
  openBulk(name: string): void {
    this.links.get(name)?.connection?.openBulk();
  }

  /** Whether `name` is connected now (a stream that ended asks, to say why). */
  isConnected(name: string): boolean {
    return this.links.get(name)?.connection?.open === true;
  }

  close(): void {
    this.closed = true;
    for (const link of this.links.values()) {
      link.wanted = false;
      clearTimeout(link.retryTimer);
      link.connection?.close();
    }
    this.links.clear();
  }
}
