/**
 * Lets a core notice what other cores sharing its library did, through inotify (fs.watch) rather
 * than polling: library.json and machine.json are replaced by atomic renames, and every running
 * machine's agent rewrites state.json in its runtime dir at each state change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LIBRARY_FILE, MACHINE_CONFIG, RUNTIME, SCHEDULE_RUNS_FILE, SNAPSHOTS_FILE, runtimeRoot } from '../paths.js';
import type { Library } from '../library/library.js';

const COALESCE_MS = 25;

/** What the watcher needs of the core (given by it, so the watcher does not import the core). */
export interface WatchedCore {
  library: Pick<Library, 'ensure' | 'home' | 'entries'>;
  env: NodeJS.ProcessEnv;
  /** The machine list, or a machine's settings, changed. */
  machinesChanged(): void;
  /** A machine's runtime state may have changed. */
  stateChanged(uuid: string): void;
  /** The snapshot scheduler appended to its runs log (library home). */
  runsChanged?(): void;
}

export class CoreWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private known = new Map<string, string>();
  private stopped = false;

  constructor(private readonly core: WatchedCore) {}

  async start(): Promise<void> {
    await this.core.library.ensure();
    const root = runtimeRoot(this.core.env);
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    this.watch('library', this.core.library.home, (file) => {
      if (file === LIBRARY_FILE) this.later('library', () => void this.onLibraryChanged());
      else if (file === SCHEDULE_RUNS_FILE) this.later('runs', () => this.core.runsChanged?.());
    });
    this.watch('runtime', root, (file) => {
      if (file && this.known.has(file)) this.later(`vm:${file}`, () => this.onRuntimeChanged(file));
    });
    await this.onLibraryChanged();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers.values()) w.close();
    for (const t of this.timers.values()) clearTimeout(t);
    this.watchers.clear();
    this.timers.clear();
  }

  private watch(key: string, dir: string, onChange: (file: string | null) => void): void {
    if (this.watchers.has(key) || this.stopped) return;
    try {
      const watcher = fs.watch(dir, (_event, file) => onChange(file === null ? null : String(file)));
      watcher.on('error', () => this.unwatch(key));
      this.watchers.set(key, watcher);
    } catch {
      // The folder is gone (a machine deleted meanwhile): nothing to watch.
    }
  }

  private unwatch(key: string): void {
    this.watchers.get(key)?.close();
    this.watchers.delete(key);
  }

  private later(key: string, fn: () => void): void {
    if (this.timers.has(key) || this.stopped) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fn();
      }, COALESCE_MS),
    );
  }

  private async onLibraryChanged(): Promise<void> {
    const entries = await this.core.library.entries().catch(() => []);
    const next = new Map(entries.map((e) => [e.uuid, e.dir]));
    for (const [uuid] of this.known) {
      if (!next.has(uuid)) {
        this.unwatch(`machine:${uuid}`);
        this.unwatch(`rt:${uuid}`);
      }
    }
    for (const [uuid, dir] of next) {
      if (this.known.get(uuid) !== dir) this.unwatch(`machine:${uuid}`);
      this.watch(`machine:${uuid}`, dir, (file) => {
        // snapshots.json too: a snapshot deleted by another process (the scheduler's pruning) changes no machine.json.
        if (file === MACHINE_CONFIG || file === SNAPSHOTS_FILE) this.later('machines', () => this.core.machinesChanged());
      });
      this.watchRuntime(uuid);
    }
    this.known = next;
    if (!this.stopped) this.core.machinesChanged();
  }

  private watchRuntime(uuid: string): void {
    const dir = path.join(runtimeRoot(this.core.env), uuid);
    this.watch(`rt:${uuid}`, dir, (file) => {
      if (file === RUNTIME.state || file === RUNTIME.exit) this.later(`vm:${uuid}`, () => this.onRuntimeChanged(uuid));
    });
  }

  private onRuntimeChanged(uuid: string): void {
    // The dir may have been removed and made again (a restart): watch the new one.
    this.unwatch(`rt:${uuid}`);
    this.watchRuntime(uuid);
    this.core.stateChanged(uuid);
  }
}
