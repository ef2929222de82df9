import { describe, expect, it } from 'vitest';
import { LOCAL_HOST as API_LOCAL_HOST, type HostSummary } from '../../src-main/api/hosts';
import {
  LOCAL_HOST,
  LOCAL_SUMMARY,
  clockTime,
  groupMachines,
  hostLabel,
  hostOf,
  hostStateText,
  listItems,
  listRows,
  machineKey,
  sameMachine,
  type ListRow,
} from './hosts';

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
  it('names this computer as the API does', () => {
    expect(LOCAL_HOST).toBe(API_LOCAL_HOST);
  });

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

describe('listRows', () => {
  const hosts = [remote('zeta', 'connected'), remote('lab', 'disconnected'), remote('empty', 'connected'), LOCAL_SUMMARY];
  const machines = [m('lab', 'web'), m('zeta', 'db'), m('local', 'alpha'), m('local', 'beta')];
  const shown = (rows: ListRow<M>[]): string[] =>
    rows.map((r) =>
      r.kind === 'empty'
        ? `(${r.group.host.name} empty)`
        : `${r.kind === 'host' ? `[${r.group.host.name}]` : r.machine.name} ${r.posinset}/${r.setsize}`,
    );

  it('draws headers, machines and the empty note, each header and machine with its place in its set', () => {
    expect(shown(listRows(groupMachines(hosts, machines, opts('', ['lab'])), false))).toEqual([
      '[local] 1/4',
      'alpha 1/2',
      'beta 2/2',
      '[empty] 2/4',
      '(empty empty)',
      '[lab] 3/4',
      '[zeta] 4/4',
      'db 1/1',
    ]);
  });

  it('counts only what the filter keeps, and says nothing of hosts without a match', () => {
    expect(shown(listRows(groupMachines(hosts, machines, opts('b')), true))).toEqual([
      '[local] 1/3',
      'beta 1/1',
      '[lab] 2/3',
      'web 1/1',
      '[zeta] 3/3',
      'db 1/1',
    ]);
    expect(shown(listRows(groupMachines(hosts, machines, opts('et')), true))).toEqual(['[local] 1/1', 'beta 1/1']);
  });

  it('keys rows by what they show, so a machine keeps its row across redraws', () => {
    const keys = listRows(groupMachines(hosts, machines, opts()), false).map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(machineKey(machines[2]!));
  });
});
