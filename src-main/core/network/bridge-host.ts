/**
 * What bridged networking needs from the host, read the way qemu-bridge-helper reads it: the bridge
 * (/sys/class/net/BR/bridge), the helper binary and its privileges, and its ACL file
 * (/etc/qemu/bridge.conf: `allow NAME`, `allow all`, `deny NAME`, `deny all`, `include FILE`; any
 * deny wins over any allow). Every problem is said with the exact command that fixes it.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VmdeskError } from '../../api/errors.js';
import type { HostBridge, NetworkHostInfo } from '../../api/network.js';

export const DEFAULT_BRIDGE_ACL = '/etc/qemu/bridge.conf';
const HELPER_NAME = 'qemu-bridge-helper';
/** The helper refuses deeper include chains as loops; so does this reader. */
const MAX_INCLUDE_DEPTH = 8;

/** iface is a bridge name, or 'all'. */
export type AclRule = { type: 'allow' | 'deny'; iface: string };

export interface BridgeAcl {
  rules: AclRule[];
  /** Why the helper would refuse to run with this ACL (a missing file, an unknown command), or null. */
  error: string | null;
}

/** Parse an ACL file and the files it includes (as the helper does: leading `#` comments, blank lines). */
export async function readBridgeAcl(file: string, depth = 0): Promise<BridgeAcl> {
  if (depth > MAX_INCLUDE_DEPTH) return { rules: [], error: `${file}: includes nest deeper than ${MAX_INCLUDE_DEPTH} (a loop?)` };
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { rules: [], error: code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? 'error'})` };
  }
  const rules: AclRule[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+)\s+(\S+)$/.exec(line);
    const where = `${file} line ${index + 1}`;
    if (!match) return { rules, error: `${where}: expected "allow NAME", "deny NAME" or "include FILE", found "${line.slice(0, 80)}"` };
    const [, command = '', arg = ''] = match;
    if (command === 'allow' || command === 'deny') {
      rules.push({ type: command, iface: arg === 'all' ? 'all' : arg });
    } else if (command === 'include') {
      const included = await readBridgeAcl(path.resolve(path.dirname(file), arg), depth + 1);
      rules.push(...included.rules);
      if (included.error) return { rules, error: included.error };
    } else {
      return { rules, error: `${where}: unknown command "${command.slice(0, 40)}"` };
    }
  }
  return { rules, error: null };
}

/** The helper's decision: allowed by some rule and denied by none. */
export function aclAllows(acl: BridgeAcl, bridge: string): boolean {
  if (acl.error) return false;
  const hits = (type: AclRule['type']): boolean => acl.rules.some((r) => r.type === type && (r.iface === 'all' || r.iface === bridge));
  return hits('allow') && !hits('deny');
}

/** The bridges an ACL names as allowed ('all' for `allow all`), denied ones left out. */
export function aclAllowedNames(acl: BridgeAcl): string[] {
  if (acl.error || acl.rules.some((r) => r.type === 'deny' && r.iface === 'all')) return [];
  const names = acl.rules.filter((r) => r.type === 'allow').map((r) => r.iface);
  return [...new Set(names)].filter((n) => n === 'all' || aclAllows(acl, n));
}

/** The helper shipped with this QEMU: next to its binary's prefix first, then the usual places. */
export async function findBridgeHelper(qemuBinary: string | null, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const candidates: string[] = [];
  if (env.VMDESK_BRIDGE_HELPER) candidates.push(env.VMDESK_BRIDGE_HELPER);
  if (qemuBinary) {
    const prefix = path.dirname(path.dirname(await fs.realpath(qemuBinary).catch(() => qemuBinary)));
    candidates.push(path.join(prefix, 'lib/qemu', HELPER_NAME), path.join(prefix, 'libexec', HELPER_NAME));
  }
  candidates.push(`/usr/lib/qemu/${HELPER_NAME}`, `/usr/libexec/${HELPER_NAME}`, `/usr/local/libexec/${HELPER_NAME}`);
  for (const candidate of candidates) {
    const stat = await fs.stat(candidate).catch(() => null);
    if (stat?.isFile()) return candidate;
  }
  return null;
}

/** Root runs it as is; anyone else needs it setuid root or with cap_net_admin (getcap says which). */
export async function helperPrivileged(helper: string, uid: number = process.getuid?.() ?? 0): Promise<boolean> {
  if (uid === 0) return true;
  const stat = await fs.stat(helper).catch(() => null);
  if (!stat) return false;
  if (stat.uid === 0 && (stat.mode & 0o4000) !== 0) return true;
  const caps = await new Promise<string>((resolve) => {
    execFile('getcap', [helper], { timeout: 5_000 }, (err, stdout) => resolve(err ? '' : stdout));
  });
  return /cap_net_admin/.test(caps);
}

/** The host's bridges (interfaces with a bridge/ folder under /sys/class/net). */
export async function listBridges(sysNet = '/sys/class/net'): Promise<Array<Omit<HostBridge, 'allowed'>>> {
  const names = await fs.readdir(sysNet).catch(() => [] as string[]);
  const bridges: Array<Omit<HostBridge, 'allowed'>> = [];
  for (const name of names.sort()) {
    if (!(await fs.stat(path.join(sysNet, name, 'bridge')).catch(() => null))) continue;
    const state = (await fs.readFile(path.join(sysNet, name, 'operstate'), 'utf8').catch(() => 'unknown')).trim();
    const ports = (await fs.readdir(path.join(sysNet, name, 'brif')).catch(() => [] as string[])).sort();
    bridges.push({ name, state, ports });
  }
  return bridges;
}

export interface BridgeHostOptions {
  qemuBinary: string | null;
  env?: NodeJS.ProcessEnv;
  sysNet?: string;
  aclFile?: string;
  uid?: number;
  /** The tun device the helper opens as the user it runs for (it keeps only CAP_NET_ADMIN). */
  tunDevice?: string;
}

/** What is wrong with the tun device for this user, with the fix, or null. */
async function tunProblem(tun: string): Promise<string | null> {
  const stat = await fs.stat(tun).catch(() => null);
  if (!stat) return `${tun} does not exist: run \`sudo modprobe tun\``;
  const usable = await fs.access(tun, constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  return usable ? null : `${tun} is not usable by this user: run \`sudo chmod 0666 ${sh(tun)}\` (its usual mode)`;
}

/** Shell-quoted for a fix line a user pastes. */
function sh(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

export function allowFix(bridge: string, aclFile: string): string {
  return `echo ${sh(`allow ${bridge}`)} | sudo tee -a ${sh(aclFile)}`;
}

/** Bridges, the helper and its ACL, with every problem and its fix. */
export async function bridgeHostInfo(options: BridgeHostOptions): Promise<Omit<NetworkHostInfo, 'internalNetworks'>> {
  const env = options.env ?? process.env;
  const aclFile = options.aclFile ?? env.VMDESK_BRIDGE_ACL ?? DEFAULT_BRIDGE_ACL;
  const [found, helper, acl] = await Promise.all([
    listBridges(options.sysNet),
    findBridgeHelper(options.qemuBinary, env),
    readBridgeAcl(aclFile),
  ]);
  const privileged = helper ? await helperPrivileged(helper, options.uid) : false;
  const bridges = found.map((b) => ({ ...b, allowed: aclAllows(acl, b.name) }));
  const problems: string[] = [];
  const tun = await tunProblem(options.tunDevice ?? '/dev/net/tun');
  if (tun) problems.push(tun);
  if (!helper) {
    problems.push(`${HELPER_NAME} is not installed: run \`sudo apt-get install qemu-system-common\` (or your system's QEMU package)`);
  } else if (!privileged) {
    problems.push(`${helper} cannot create tap devices for this user: run \`sudo chmod u+s ${sh(helper)}\``);
  }
  if (acl.error) {
    problems.push(
      acl.error.endsWith('does not exist')
        ? `The bridge helper's ACL ${aclFile} does not exist: run \`sudo mkdir -p ${sh(path.dirname(aclFile))} && ${allowFix(bridges[0]?.name ?? 'br0', aclFile)}\``
        : `The bridge helper cannot read its ACL: ${acl.error}`,
    );
  }
  if (bridges.length === 0) {
    problems.push('There is no bridge on this host: make one, e.g. `sudo ip link add br0 type bridge && sudo ip link set br0 up`');
  }
  if (!acl.error) {
    for (const b of bridges.filter((x) => !x.allowed)) {
      problems.push(`The bridge helper's ACL does not allow ${b.name}: run \`${allowFix(b.name, aclFile)}\``);
    }
  }
  return {
    bridges,
    bridgeHelper: { path: helper, privileged, aclFile, allowed: aclAllowedNames(acl), problems },
  };
}

/**
 * Before starting a machine with a bridged adapter: the bridge exists, the helper is there and may
 * work, and its ACL allows the bridge. Returns the helper path; throws HOST_UNSUPPORTED with the fix.
 */
export async function requireBridgeUsable(bridge: string, adapter: string, options: BridgeHostOptions): Promise<string> {
  const info = await bridgeHostInfo(options);
  const sysNet = options.sysNet ?? '/sys/class/net';
  const fail = (why: string): never => {
    throw new VmdeskError('HOST_UNSUPPORTED', `${adapter} is bridged to ${bridge}, but ${why}`);
  };
  if (!info.bridges.some((b) => b.name === bridge)) {
    const exists = await fs.stat(path.join(sysNet, bridge)).catch(() => null);
    const others = info.bridges.map((b) => b.name);
    fail(
      (exists ? `${bridge} is a network interface, not a bridge` : `there is no bridge ${bridge} on this host`) +
        (others.length > 0 ? ` (bridges here: ${others.join(', ')})` : '') +
        `: make it, e.g. \`sudo ip link add ${bridge} type bridge && sudo ip link set ${bridge} up\`, or choose another attachment`,
    );
  }
  const helper = info.bridgeHelper;
  const tun = await tunProblem(options.tunDevice ?? '/dev/net/tun');
  if (tun) fail(tun);
  if (!helper.path) return fail(`${HELPER_NAME} is not installed: run \`sudo apt-get install qemu-system-common\``);
  if (!helper.privileged) fail(`${helper.path} cannot create tap devices for this user: run \`sudo chmod u+s ${sh(helper.path)}\``);
  const acl = await readBridgeAcl(helper.aclFile);
  if (acl.error?.endsWith('does not exist')) {
    fail(
      `the bridge helper's ACL ${helper.aclFile} does not exist: run \`sudo mkdir -p ${sh(path.dirname(helper.aclFile))} && ${allowFix(bridge, helper.aclFile)}\``,
    );
  }
  if (acl.error) fail(`the bridge helper cannot read its ACL: ${acl.error}`);
  if (!aclAllows(acl, bridge))
    fail(`the bridge helper's ACL ${helper.aclFile} does not allow it: run \`${allowFix(bridge, helper.aclFile)}\``);
  return helper.path;
}
