// Several cores on one library: what the CLI does shows up in a running core as events (inotify),
// without anyone asking. The waits are generous: on 2 loaded cores a second is not a promise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Core } from '../core/core.js';
import { makeSandbox, ok, type Sandbox } from './harness.js';

let sb: Sandbox;
let core: Core;
let unwatch: () => void;

beforeAll(async () => {
  sb = makeSandbox();
  core = new Core({ env: sb.env });
  unwatch = await core.watch();
});
afterAll(async () => {
  unwatch();
  await sb.cleanup();
});

function nextEvent<T>(register: (resolve: (v: T) => void) => void, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

describe('a core watching the library', () => {
  it('sees a VM created by the CLI, then its start and stop, as events', async () => {
    await ok(sb, ['create', 'w', '--demo']);
    await nextEvent<void>((resolve) => {
      const check = async (): Promise<void> => {
        if ((await core.list()).some((m) => m.config?.name === 'w')) resolve();
      };
      core.on('machines', () => void check());
      void check();
    }, 30_000);

    const { uuid } = await core.get('w');
    const running = nextEvent<string>((resolve) => {
      core.on('machine-state', (e) => e.uuid === uuid && e.status.state === 'running' && resolve(e.status.state));
    }, 90_000);
    await ok(sb, ['start', 'w']);
    expect(await running).toBe('running');

    const stopped = nextEvent<string>((resolve) => {
      core.on('machine-state', (e) => e.uuid === uuid && e.status.state === 'stopped' && resolve(e.status.state));
    }, 60_000);
    await ok(sb, ['stop', 'w', '--force']);
    expect(await stopped).toBe('stopped');
  });

  it('two cores cannot start the same VM twice', async () => {
    const other = new Core({ env: sb.env });
    const results = await Promise.allSettled([core.start('w'), other.start('w')]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatchObject({ code: expect.stringMatching(/INVALID_STATE|LOCKED/) });
    await core.shutdown('w', { force: true });
  });
});
