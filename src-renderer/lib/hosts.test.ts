import { describe, expect, it } from 'vitest';
import type { HostSummary } from '../../src-main/api/hosts';
import {
  LOCAL_SUMMARY,
  authenticityLines,
  clockTime,
  emptyHostForm,
  groupMachines,
  hostFormErrors,
  hostFormToInput,
  hostLabel,
  hostOf,
  hostStateText,
  listItems,
  machineKey,
  sameMachine,
  sshHostDisplay,
  unknownHostKeys,
  type HostForm,
} from './hosts';

const FP = 'SHA256:' + 'A'.repeat(43);
type M = { host: string; uuid: string; name: string };
const m = (host: string, name: string, uuid = `${name}-uuid`): M => ({ host, uuid, name });
const remote = (name: string, state: HostSummary['state'], extra: Partial<HostSummary> = {}): HostSummary => ({
  name,
  local: false,
  state,
  entry: { name, destination: `me@${name}` },
  ...extra,
});
const opts = (filter = '', collapsed: string[] = []) => ({ filter, collapsed: new Set(collapsed), nameOf: (x: M) => x.name });

describe('machine references', () => {
  it('keys a machine by host and uuid: one uuid on two hosts is two machines', () => {
    expect(machineKey({ host: 'local', uuid: 'u' })).not.toBe(machineKey({ host: 'lab', uuid: 'u' }));
    expect(sameMachine({ host: 'lab', uuid: 'u' }, { host: 'lab', uuid: 'u' })).toBe(true);
    expect(sameMachine({ host: 'local', uuid: 'u' }, { host: 'lab', uuid: 'u' })).toBe(false);
    expect(sameMachine(null, { host: 'lab', uuid: 'u' })).toBe(false);
  });

  it('names this computer "local" and calls it This computer', () => {
    expect(hostOf(undefined)).toBe('local');
    expect(hostOf('')).toBe('local');
    expect(hostOf('lab')).toBe('lab');
    expect(hostLabel('local')).toBe('This computer');
    expect(hostLabel('lab')).toBe('lab');
  });
});

describe('hostStateText', () => {
  it('says each state in words', () => {
    expect(hostStateText(remote('a', 'connected'))).toBe('connected');
    expect(hostStateText(remote('a', 'connecting'))).toBe('connecting…');
    expect(hostStateText(remote('a', 'disconnected'))).toBe('disconnected');
    expect(hostStateText(remote('a', 'failed', { error: { code: 'UNREACHABLE', message: 'Connection refused' } }))).toBe(
      'failed: Connection refused',
    );
  });

  it('gives the time of the next try of a dropped link, HH:MM:SS in local time', () => {
    const at = new Date(2026, 0, 2, 9, 5, 7);
    expect(clockTime(at)).toBe('09:05:07');
    expect(hostStateText(remote('a', 'disconnected', { retryAt: at.toISOString() }))).toBe('disconnected — reconnecting at 09:05:07');
    expect(hostStateText(remote('a', 'disconnected', { retryAt: 'garbage' }))).toBe('disconnected');
  });
});

describe('groupMachines', () => {
  const hosts = [remote('zeta', 'connected'), remote('lab', 'disconnected'), LOCAL_SUMMARY];
  const machines = [m('lab', 'web'), m('local', 'web', 'same'), m('zeta', 'db'), m('local', 'alpha'), m('lab', 'api', 'same')];

  it('puts this computer first, then the remote hosts by name, each with its machines by name', () => {
    const groups = groupMachines(hosts, machines, opts());
    expect(groups.map((g) => [g.label, g.machines.map((x) => x.name)])).toEqual([
      ['This computer', ['alpha', 'web']],
      ['lab', ['api', 'web']],
      ['zeta', ['db']],
    ]);
    expect(groups.map((g) => g.reachable)).toEqual([true, false, true]);
  });

  it('keeps an empty host as a group, and drops machines of a host no longer listed', () => {
    const groups = groupMachines([LOCAL_SUMMARY, remote('empty', 'connected')], [m('gone', 'x'), m('local', 'a')], opts());
    expect(groups.map((g) => [g.host.name, g.machines.length])).toEqual([
      ['local', 1],
      ['empty', 0],
    ]);
  });

  it('filters by name and hides groups without a match', () => {
    const groups = groupMachines(hosts, machines, opts('WE'));
    expect(groups.map((g) => [g.host.name, g.machines.map((x) => x.name)])).toEqual([
      ['local', ['web']],
      ['lab', ['web']],
    ]);
  });

  it('lists headers and the rows of expanded groups, in order', () => {
    const items = listItems(groupMachines(hosts, machines, opts('', ['lab'])));
    expect(items.map((i) => (i.kind === 'host' ? `[${i.host}]` : i.machine.name))).toEqual([
      '[local]',
      'alpha',
      'web',
      '[lab]',
      '[zeta]',
      'db',
    ]);
  });
});

describe('the Add host form', () => {
  const form = (f: Partial<HostForm>): HostForm => ({ ...emptyHostForm(), ...f });

  it('becomes the addHost input: trimmed, empty optional fields left out, the port a number', () => {
    expect(hostFormToInput(form({ name: ' lab ', destination: ' me@lab ' }))).toEqual({ name: 'lab', destination: 'me@lab' });
    expect(
      hostFormToInput(
        form({ name: 'lab', destination: 'lab', port: '2222', identity: '/k', remoteHome: '/srv/vms', remoteCommand: 'vmdesk-dev' }),
        FP,
      ),
    ).toEqual({
      name: 'lab',
      destination: 'lab',
      port: 2222,
      identity: '/k',
      remoteHome: '/srv/vms',
      remoteCommand: 'vmdesk-dev',
      acceptHostKey: FP,
    });
  });

  it('accepts a plain entry', () => {
    expect(hostFormErrors(form({ name: 'lab', destination: 'me@lab.example' }))).toEqual({});
    expect(hostFormErrors(form({ name: 'lab-2', destination: 'ssh://me@[::1]:2222' }))).toEqual({});
  });

  it('refuses what the core refuses, in its words', () => {
    const e = hostFormErrors(
      form({ name: 'local', destination: '-oProxyCommand=sh', port: '70000', identity: 'key', remoteHome: "/a'b", remoteCommand: 'a\nb' }),
    );
    expect(e.name).toMatch(/this computer/);
    expect(e.destination).toMatch(/cannot start with "-"/);
    expect(e.port).toMatch(/65535/);
    expect(e.identity).toBeTruthy();
    expect(e.remoteHome).toMatch(/quote/);
    expect(e.remoteCommand).toMatch(/control characters/);
  });

  it('says a port that is not a number is not one, and needs a name and a destination', () => {
    expect(hostFormErrors(form({ name: 'lab', destination: 'lab', port: '22a' })).port).toBe('The port must be a whole number');
    const e = hostFormErrors(form({}));
    expect(e.name).toBeTruthy();
    expect(e.destination).toMatch(/SSH destination is needed/);
  });

  it('refuses a name already added', () => {
    expect(hostFormErrors(form({ name: 'lab', destination: 'lab' }), new Set(['lab'])).name).toMatch(/already added/);
  });
});

describe('host keys', () => {
  it('reads the keys of an unknown-key failure, and nothing from a changed-key one', () => {
    expect(unknownHostKeys({ keys: [{ type: 'ED25519', fingerprint: FP }] })).toEqual([{ type: 'ED25519', fingerprint: FP }]);
    expect(unknownHostKeys({ keys: [] })).toBeNull();
    expect(unknownHostKeys(undefined)).toBeNull();
    expect(unknownHostKeys({ keys: [{ type: 1 }] })).toBeNull();
    expect(unknownHostKeys({ mismatch: true, keys: [{ type: 'ED25519', fingerprint: FP }] })).toBeNull();
  });

  it('names the host as ssh does', () => {
    expect(sshHostDisplay('me@lab')).toBe('lab');
    expect(sshHostDisplay('lab', 22)).toBe('lab');
    expect(sshHostDisplay('me@10.0.0.2', 2222)).toBe('[10.0.0.2]:2222');
    expect(sshHostDisplay('ssh://me@lab:2200')).toBe('[lab]:2200');
    expect(sshHostDisplay('ssh://me@[fe80::1]:2200')).toBe('[fe80::1]:2200');
  });

  it("says it in ssh's own words", () => {
    expect(authenticityLines('me@lab', undefined, [{ type: 'ed25519', fingerprint: FP }])).toEqual([
      "The authenticity of host 'lab' can't be established.",
      `ED25519 key fingerprint is ${FP}.`,
    ]);
  });
});
