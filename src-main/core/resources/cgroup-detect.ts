/**
 * Which cgroup hierarchy carries the `cpu` controller here, and the folder VMDesk may make machines'
 * groups in: the v1 `cpu` hierarchy (as root, or a folder given to this user), or cgroup v2 (as root
 * a `vmdesk.slice` at the top; as a user the subtree systemd delegated to it). Read from
 * /proc/self/mountinfo and /proc/self/cgroup; the folders themselves are checked on the file system.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { CgroupSupport } from '../../api/resources.js';

export interface CgroupMount {
  version: 1 | 2;
  /** Where it is mounted. */
  mountPoint: string;
  /** The folder of the hierarchy mounted there (`/` unless a container sees only a part of it). */
  root: string;
  /** v1: the controllers of the hierarchy (its super options); v2: empty (see cgroup.controllers). */
  controllers: string[];
}

/** mountinfo escapes blanks, tabs, newlines and backslashes in paths as octal (`\040`). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The cgroup mounts of /proc/self/mountinfo (`ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SOURCE SUPEROPTS`). */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left = '', right = ''] = line.split(' - ');
    const fields = left.split(' ');
    const [type = '', , superOptions = ''] = right.split(' ');
    if (fields.length < 5 || (type !== 'cgroup' && type !== 'cgroup2')) continue;
    const root = unescapeMountPath(fields[3] ?? '/');
    const mountPoint = unescapeMountPath(fields[4] ?? '');
    if (type === 'cgroup2') mounts.push({ version: 2, mountPoint, root, controllers: [] });
    else
      mounts.push({
        version: 1,
        mountPoint,
        root,
        controllers: superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.includes('=')),
      });
  }
  return mounts;
}

/** /proc/self/cgroup: the v2 path (`0::/x`) and each v1 controller's path. */
export function parseSelfCgroup(text: string): { v2: string | null; v1: Map<string, string> } {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id = '', controllers = '', cgPath = ''] = m;
    if (id === '0' && controllers === '') v2 = cgPath;
    else for (const c of controllers.split(',')) if (c) v1.set(c, cgPath);
  }
  return { v2, v1 };
}

/** The folder of hierarchy path `cgPath` under `mount`, or null when the mount does not show it. */
export function folderOf(mount: CgroupMount, cgPath: string): string | null {
  const rel = path.posix.relative(mount.root, cgPath);
  if (rel.startsWith('..') || path.posix.isAbsolute(rel)) return null;
  return path.join(mount.mountPoint, rel);
}

export interface DetectInput {
  mountinfo: string;
  selfCgroup: string;
  uid: number;
  env: NodeJS.ProcessEnv;
}

const exists = (p: string): Promise<boolean> =>
  fsp.access(p).then(
    () => true,
    () => false,
  );
const writable = (p: string): Promise<boolean> =>
  fsp.access(p, fsp.constants.W_OK).then(
    () => true,
    () => false,
  );
const readWords = (file: string): Promise<string[]> =>
  fsp.readFile(file, 'utf8').then(
    (t) => t.split(/\s+/).filter(Boolean),
    () => [],
  );

/** Someone who can write a folder which does not exist yet can make it if they can write its parent. */
async function canMake(dir: string): Promise<boolean> {
  return (await exists(dir)) ? writable(dir) : writable(path.dirname(dir));
}

/** Whether VMDesk can put machines into cgroups with a cpu controller here, where, or why not. */
export async function detectCgroups(input: DetectInput): Promise<CgroupSupport> {
  const mounts = parseCgroupMounts(input.mountinfo);
  const v1 = mounts.find((m) => m.version === 1 && m.controllers.includes('cpu'));
  const v2Mounts = mounts.filter((m) => m.version === 2);
  const given = input.env.VMDESK_CGROUP_PARENT;
  if (given !== undefined && given !== '') return givenParent(given, v1, v2Mounts);
  if (v1) return v1Root(v1, input.uid);
  for (const mount of v2Mounts) {
    if (!(await readWords(path.join(mount.mountPoint, 'cgroup.controllers'))).includes('cpu')) continue;
    return input.uid === 0 ? v2RootAsRoot(mount) : v2Delegated(mount, input);
  }
  if (mounts.length === 0)
    return {
      version: null,
      root: null,
      reason: 'no cgroup file system is mounted (see /proc/self/mountinfo): mount cgroup2 on /sys/fs/cgroup',
    };
  return {
    version: null,
    root: null,
    reason:
      v2Mounts.length > 0
        ? `the cgroup v2 hierarchy at ${v2Mounts.map((m) => m.mountPoint).join(', ')} has no cpu controller and no cgroup v1 hierarchy has one: ` +
          'the cpu controller is bound elsewhere or disabled (cgroup_disable=cpu on the kernel command line?)'
        : 'no mounted cgroup v1 hierarchy has the cpu controller: mount one (mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu)',
  };
}

async function givenParent(given: string, v1: CgroupMount | undefined, v2Mounts: CgroupMount[]): Promise<CgroupSupport> {
  const dir = path.resolve(given);
  const unusable = (why: string): CgroupSupport => ({
    version: null,
    root: null,
    reason: `VMDESK_CGROUP_PARENT=${given} ${why}: point it to a cgroup folder this user may write, or unset it`,
  });
  if (!path.isAbsolute(given)) return unusable('is not an absolute path');
  const inside = (m: CgroupMount): boolean => dir === m.mountPoint || dir.startsWith(m.mountPoint + path.sep);
  if (v1 && inside(v1)) {
    if (!(await exists(path.join(dir, 'cpu.shares'))) && !(await canMakeUnder(v1, dir)))
      return unusable(`is not a cgroup of the cpu hierarchy at ${v1.mountPoint}`);
    return (await canMake(dir)) ? { version: 1, root: dir } : unusable('is not writable by this user');
  }
  const v2 = v2Mounts.find(inside);
  if (v2) {
    const parentControllers = await readWords(path.join((await exists(dir)) ? dir : path.dirname(dir), 'cgroup.controllers'));
    if (!parentControllers.includes('cpu')) return unusable('has no cpu controller (it is not in cgroup.controllers there)');
    return (await canMake(dir)) ? { version: 2, root: dir } : unusable('is not writable by this user');
  }
  return unusable('is not under a cgroup mount with the cpu controller');
}

/** A v1 folder that does not exist yet is fine when its parent is a cgroup of that hierarchy. */
async function canMakeUnder(v1: CgroupMount, dir: string): Promise<boolean> {
  return dir !== v1.mountPoint && exists(path.join(path.dirname(dir), 'cpu.shares'));
}

async function v1Root(mount: CgroupMount, uid: number): Promise<CgroupSupport> {
  const root = path.join(mount.mountPoint, 'vmdesk');
  if (await canMake(root)) return { version: 1, root };
  return {
    version: null,
    root: null,
    reason:
      `the cgroup v1 cpu hierarchy at ${mount.mountPoint} is not writable by this user (uid ${uid}): run VMDesk as root, or give it a folder ` +
      `(sudo mkdir ${root} && sudo chown -R ${uid} ${root}) and set VMDESK_CGROUP_PARENT=${root}`,
  };
}

async function v2RootAsRoot(mount: CgroupMount): Promise<CgroupSupport> {
  const root = path.join(mount.mountPoint, 'vmdesk.slice');
  if (await canMake(root)) return { version: 2, root };
  return { version: null, root: null, reason: `the cgroup v2 hierarchy at ${mount.mountPoint} is read-only here` };
}

/**
 * As a user on cgroup v2: the subtree systemd delegated (user@UID.service), found by walking up from
 * this process's own cgroup while the folders belong to this user; its groups go into a
 * `vmdesk.slice` there (the processes of a folder and its controllers' children cannot share it).
 */
async function v2Delegated(mount: CgroupMount, input: DetectInput): Promise<CgroupSupport> {
  const own = parseSelfCgroup(input.selfCgroup).v2;
  const ownDir = own === null ? null : folderOf(mount, own);
  const fix =
    'let systemd delegate it: create /etc/systemd/system/user@.service.d/delegate.conf with "[Service]\\nDelegate=cpu cpuset io memory pids", ' +
    'then log in again (or run VMDesk as root)';
  if (ownDir === null) return { version: null, root: null, reason: `this process's cgroup is not visible under ${mount.mountPoint}` };
  let delegated: string | null = null;
  for (let dir = ownDir; dir.startsWith(mount.mountPoint + path.sep); dir = path.dirname(dir)) {
    const stat = await fsp.stat(dir).catch(() => null);
    if (!stat || stat.uid !== input.uid) break;
    delegated = dir;
  }
  if (delegated === null)
    return {
      version: null,
      root: null,
      reason:
        `this process's cgroup (${own ?? '?'}) is in no subtree delegated to this user (uid ${input.uid}): run VMDesk inside your ` +
        `systemd user session (e.g. systemd-run --user --scope vmdesk ...), or ${fix}`,
    };
  if (!(await readWords(path.join(delegated, 'cgroup.controllers'))).includes('cpu'))
    return {
      version: null,
      root: null,
      reason: `the cgroup v2 subtree delegated to this user (${delegated}) has no cpu controller: ${fix}`,
    };
  const root = path.join(delegated, 'vmdesk.slice');
  if (await canMake(root)) return { version: 2, root };
  return { version: null, root: null, reason: `the delegated cgroup ${delegated} is not writable by this user` };
}

/** This host's answer, read from /proc. */
export async function cgroupSupportOfHost(env: NodeJS.ProcessEnv): Promise<CgroupSupport> {
  const [mountinfo, selfCgroup] = await Promise.all([
    fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
    fsp.readFile('/proc/self/cgroup', 'utf8').catch(() => ''),
  ]);
  return detectCgroups({ mountinfo, selfCgroup, uid: process.getuid?.() ?? -1, env });
}
