import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_GUEST_VERSION, demoGuestDir, ensureDemoGuest, findDemoGuest, findRecipe } from './demo-guest.js';

let cache: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  cache = await fs.mkdtemp(path.join(os.tmpdir(), 'vmdesk-demo-'));
  env = { ...process.env, VMDESK_CACHE: cache };
});
afterEach(async () => {
  await fs.rm(cache, { recursive: true, force: true });
});

async function fakeBuild(dir: string, skip?: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const name of ['vmlinuz', 'initrd.img', 'demo.iso', 'VERSION']) {
    if (name !== skip) await fs.writeFile(path.join(dir, name), name === 'VERSION' ? '1 6.1.0-test\n' : 'x');
  }
}

describe('demo guest cache', () => {
  it('lives in a versioned folder of the cache', () => {
    expect(demoGuestDir(env)).toBe(path.join(cache, 'demo-guest', `v${DEMO_GUEST_VERSION}`));
  });

  it('is not found when absent or incomplete', async () => {
    expect(await findDemoGuest(env)).toBeNull();
    await fakeBuild(demoGuestDir(env), 'demo.iso');
    expect(await findDemoGuest(env)).toBeNull();
  });

  it('is found with all its files, and ensure does not rebuild it', async () => {
    await fakeBuild(demoGuestDir(env));
    const found = await findDemoGuest(env);
    expect(found).toMatchObject({ version: '1 6.1.0-test', kernel: path.join(demoGuestDir(env), 'vmlinuz') });
    const logs: string[] = [];
    expect(await ensureDemoGuest({ env, onLog: (l) => logs.push(l) })).toEqual(found);
    expect(logs).toEqual([]);
  });

  it('finds the recipe from the module location', async () => {
    const recipe = await findRecipe();
    expect(recipe.endsWith(path.join('resources', 'demo-guest', 'build.sh'))).toBe(true);
    await fs.access(recipe);
  });

  it('cancels a build cleanly', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(ensureDemoGuest({ env, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(await findDemoGuest(env)).toBeNull();
  });
});
