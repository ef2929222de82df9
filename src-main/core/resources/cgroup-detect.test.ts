// Cgroup detection against fixture mountinfo and /proc/self/cgroup text, with a temp folder tree
// standing in for the cgroup file systems.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IS_ROOT, skipBecause } from '../../integration/skip.js';
import { detectCgroups, folderOf, parseCgroupMounts, parseSelfCgroup } from './cgroup-detect.js';

// This very host: cgroup v1 with each controller on its own hierarchy, and an empty cgroup2.
const HYBRID = (base: string): string =>
  [
    `31 23 0:28 / ${base} rw,relatime - tmpfs tmpfs rw,mode=755`,
    `32 31 0:29 / ${base}/cpu rw,relatime - cgroup cgroup rw,cpu`,
    `33 31 0:30 / ${base}/cpuacct rw,relatime - cgroup cgroup rw,cpuacct`,
    `35 31 0:32 / ${base}/memory rw,relatime - cgroup cgroup rw,memory`,
    `40 31 0:37 / ${base}/systemd rw,relatime - cgroup cgroup rw,name=systemd`,
    `41 31 0:38 / ${base}/unified rw,relatime - cgroup2 cgroup2 rw`,
    '',
  ].join('\n');
const UNIFIED = (base: string): string =>
  [
    '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw',
    `30 22 0:26 / ${base} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`,
    '',
  ].join('\n');
const USER_CGROUP = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/vmdesk.scope\n';

let tmp = '';
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-detect-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tree(files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    fs.writeFileSync(path.join(tmp, rel), text);
  }
}

describe('parsing /proc', () => {
  it('finds cgroup mounts and their controllers, unescaping paths', () => {
    const mounts = parseCgroupMounts(HYBRID('/sys/fs/cgroup') + '50 31 0:40 /sub /mnt/with\\040blank rw - cgroup cgroup rw,cpu,cpuacct\n');
    expect(mounts.map((m) => [m.version, m.mountPoint, m.controllers.join('+')])).toEqual([
      [1, '/sys/fs/cgroup/cpu', 'cpu'],
      [1, '/sys/fs/cgroup/cpuacct', 'cpuacct'],
      [1, '/sys/fs/cgroup/memory', 'memory'],
      [1, '/sys/fs/cgroup/systemd', ''],
      [2, '/sys/fs/cgroup/unified', ''],
      [1, '/mnt/with blank', 'cpu+cpuacct'],
    ]);
    expect(mounts[5]?.root).toBe('/sub');
  });

  it('reads /proc/self/cgroup for both versions, and maps paths into a mount', () => {
    const own = parseSelfCgroup('4:memory:/process_api/x\n1:cpu,cpuacct:/a/b\n0::/user.slice/u\n');
    expect(own.v2).toBe('/user.slice/u');
    expect(own.v1.get('cpuacct')).toBe('/a/b');
    expect(own.v1.get('memory')).toBe('/process_api/x');
    const mount = { version: 2 as const, mountPoint: '/sys/fs/cgroup', root: '/user.slice', controllers: [] };
    expect(folderOf(mount, '/user.slice/u')).toBe('/sys/fs/cgroup/u');
    expect(folderOf(mount, '/system.slice')).toBeNull();
  });
});

describe('detectCgroups', () => {
  it('uses the v1 cpu hierarchy where it is mounted (this host)', async () => {
    tree({ 'cpu/cpu.shares': '1024\n', 'unified/cgroup.controllers': '' });
    const support = await detectCgroups({ mountinfo: HYBRID(tmp), selfCgroup: '1:cpu:/\n0::/\n', uid: 0, env: {} });
    expect(support).toEqual({ version: 1, root: path.join(tmp, 'cpu', 'vmdesk') });
  });

  it('uses cgroup v2 where it has the cpu controller, as root a vmdesk.slice at its top', async () => {
    tree({ 'cgroup.controllers': 'cpuset cpu io memory pids\n' });
    const support = await detectCgroups({ mountinfo: UNIFIED(tmp), selfCgroup: '0::/init.scope\n', uid: 0, env: {} });
    expect(support).toEqual({ version: 2, root: path.join(tmp, 'vmdesk.slice') });
  });

  it('says why when no hierarchy has the cpu controller', async () => {
    tree({ 'unified/cgroup.controllers': '' });
    const mountinfo = HYBRID(tmp).replace(/^.* - cgroup cgroup rw,cpu\n/m, '');
    const support = await detectCgroups({ mountinfo, selfCgroup: '0::/\n', uid: 0, env: {} });
    expect(support.version).toBeNull();
    expect(support.reason).toMatch(/has no cpu controller and no cgroup v1 hierarchy has one/);
    const none = await detectCgroups({ mountinfo: '', selfCgroup: '', uid: 0, env: {} });
    expect(none.reason).toMatch(/no cgroup file system is mounted/);
  });

  it('takes VMDESK_CGROUP_PARENT when it is a cgroup with cpu, and refuses any other folder with the reason', async () => {
    tree({ 'cpu/cpu.shares': '1024\n', 'cpu/mine/cpu.shares': '1024\n', 'unified/cgroup.controllers': '', 'plain/file': '' });
    const detect = (parent: string) =>
      detectCgroups({ mountinfo: HYBRID(tmp), selfCgroup: '0::/\n', uid: 0, env: { VMDESK_CGROUP_PARENT: parent } });
    expect(await detect(path.join(tmp, 'cpu', 'mine'))).toEqual({ version: 1, root: path.join(tmp, 'cpu', 'mine') });
    // Not there yet, but its parent is a cpu cgroup: made at the first start.
    expect(await detect(path.join(tmp, 'cpu', 'mine', 'vms'))).toEqual({ version: 1, root: path.join(tmp, 'cpu', 'mine', 'vms') });
    const plain = await detect(path.join(tmp, 'plain'));
    expect(plain.version).toBeNull();
    expect(plain.reason).toContain(`VMDESK_CGROUP_PARENT=${path.join(tmp, 'plain')} is not under a cgroup mount with the cpu controller`);
    expect((await detect('relative/dir')).reason).toMatch(/is not an absolute path/);
    expect((await detect(path.join(tmp, 'cpu', 'a', 'b'))).reason).toMatch(/is not a cgroup of the cpu hierarchy/);
    expect((await detect(path.join(tmp, 'unified', 'x'))).reason).toMatch(/has no cpu controller/);
  });

  it('finds the subtree delegated to a user on v2, and says how to get one when cpu is not delegated', async (ctx) => {
    if (!IS_ROOT) skipBecause(ctx, 'needs root to give the stand-in folders to another user');
    const delegated = 'user.slice/user-1000.slice/user@1000.service';
    tree({
      'cgroup.controllers': 'cpu memory pids\n',
      [`${delegated}/cgroup.controllers`]: 'cpu memory pids\n',
      [`${delegated}/app.slice/vmdesk.scope/cgroup.procs`]: '',
    });
    for (const rel of [delegated, `${delegated}/app.slice`, `${delegated}/app.slice/vmdesk.scope`])
      fs.chownSync(path.join(tmp, rel), 1000, 1000);
    const input = { mountinfo: UNIFIED(tmp), selfCgroup: USER_CGROUP, uid: 1000, env: {} };
    expect(await detectCgroups(input)).toEqual({ version: 2, root: path.join(tmp, delegated, 'vmdesk.slice') });
    fs.writeFileSync(path.join(tmp, delegated, 'cgroup.controllers'), 'memory pids\n');
    const noCpu = await detectCgroups(input);
    expect(noCpu.version).toBeNull();
    expect(noCpu.reason).toMatch(/delegated to this user .* has no cpu controller: let systemd delegate it: .*Delegate=cpu/);
    const stranger = await detectCgroups({ ...input, uid: 4321 });
    expect(stranger.reason).toMatch(/is in no subtree delegated to this user \(uid 4321\): run VMDesk inside your systemd user session/);
  });
});
