import { describe, expect, it } from 'vitest';
import { VmdeskError } from '../api/errors.js';
import type { MachineState } from '../api/machine-config.js';
import type { AgentStatus, MachineSummary } from '../api/types.js';
import {
  QUIT_BUTTONS,
  QUIT_SHUTDOWN_TIMEOUT_MS,
  activeMachines,
  choiceFromResponse,
  powerOffAll,
  quitQuestion,
  shutdownAll,
} from './quit-decision.js';

function machine(name: string, state: MachineState, withConfig = true): MachineSummary {
  const uuid = `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`;
  return { uuid, dir: `/vms/${name}`, config: withConfig ? ({ name } as MachineSummary['config']) : null, status: { state } };
}

/** A fake core: machines that stop on ACPI unless listed as `deaf`; `broken` ones fail every call. */
function fakeApi(list: MachineSummary[], opts: { deaf?: string[]; broken?: string[] } = {}) {
  const calls: string[] = [];
  const find = (uuid: string): MachineSummary => {
    const m = list.find((x) => x.uuid === uuid);
    if (!m) throw new VmdeskError('NOT_FOUND', uuid);
    return m;
  };
  const status = (m: MachineSummary): AgentStatus => ({ state: m.status.state }) as AgentStatus;
  return {
    calls,
    api: {
      listMachines: () => Promise.resolve(list.map((m) => ({ ...m, status: { ...m.status } }))),
      resumeMachine: (uuid: string) => {
        const m = find(uuid);
        calls.push(`resume ${m.config?.name}`);
        if (opts.broken?.includes(m.config?.name ?? '')) return Promise.reject(new VmdeskError('QEMU_FAILED', 'agent gone'));
        m.status.state = 'running';
        return Promise.resolve(status(m));
      },
      shutdownMachine: (uuid: string, options?: { force?: boolean; timeoutMs?: number }) => {
        const m = find(uuid);
        const name = m.config?.name ?? '';
        calls.push(`${options?.force ? 'poweroff' : `shutdown ${options?.timeoutMs}`} ${name}`);
        if (opts.broken?.includes(name)) return Promise.reject(new VmdeskError('QEMU_FAILED', 'agent gone'));
        if (!options?.force && opts.deaf?.includes(name)) return Promise.reject(new VmdeskError('TIMEOUT', 'no reaction'));
        m.status.state = 'stopped';
        return Promise.resolve(status(m));
      },
    },
  };
}

describe('activeMachines', () => {
  it('counts every machine whose QEMU runs', () => {
    const list = [
      machine('a', 'running'),
      machine('b', 'paused'),
      machine('c', 'starting'),
      machine('d', 'stopping'),
      machine('e', 'stopped'),
      machine('f', 'crashed'),
    ];
    expect(activeMachines(list).map((m) => [m.name, m.paused])).toEqual([
      ['a', false],
      ['b', true],
      ['c', false],
      ['d', false],
    ]);
  });

  it('names a machine whose config cannot be read by its uuid', () => {
    const m = machine('x', 'running', false);
    expect(activeMachines([m])).toEqual([{ uuid: m.uuid, name: m.uuid, paused: false }]);
  });
});

describe('the quit question', () => {
  it('names one machine, or counts several and lists a few', () => {
    expect(quitQuestion(activeMachines([machine('web', 'running')])).message).toBe('web is still running.');
    const many = activeMachines(Array.from({ length: 9 }, (_, i) => machine(`vm${i}`, 'running')));
    const q = quitQuestion(many);
    expect(q.message).toBe('9 virtual machines are still running.');
    expect(q.detail).toContain('vm0, vm1, vm2, vm3, vm4, vm5, and 3 more.');
    expect(q.detail).toContain(`${QUIT_SHUTDOWN_TIMEOUT_MS / 1000} s`);
  });

  it('maps the buttons to keep / shut down / cancel; dismissing cancels', () => {
    expect(QUIT_BUTTONS).toHaveLength(3);
    expect([0, 1, 2].map(choiceFromResponse)).toEqual(['keep', 'shutdown', 'cancel']);
    expect(choiceFromResponse(-1)).toBe('cancel');
    expect(choiceFromResponse(7)).toBe('cancel');
  });
});

describe('shutting machines down on quit', () => {
  it('asks every guest to shut down with the timeout, resuming paused ones first', async () => {
    const { api, calls } = fakeApi([machine('a', 'running'), machine('b', 'paused'), machine('c', 'stopped')]);
    const report = await shutdownAll(api, activeMachines(await api.listMachines()), 1234);
    expect(report).toEqual({ stopped: ['a', 'b'], unresponsive: [] });
    expect(calls.sort()).toEqual(['resume b', 'shutdown 1234 a', 'shutdown 1234 b']);
  });

  it('reports the guests that ignore ACPI, and powers them off', async () => {
    const { api, calls } = fakeApi([machine('a', 'running'), machine('deaf', 'running')], { deaf: ['deaf'] });
    const report = await shutdownAll(api, activeMachines(await api.listMachines()));
    expect(report.stopped).toEqual(['a']);
    expect(report.unresponsive.map((m) => m.name)).toEqual(['deaf']);
    expect(await powerOffAll(api, report.unresponsive)).toEqual([]);
    expect(calls).toContain('poweroff deaf');
    expect(activeMachines(await api.listMachines())).toEqual([]);
  });

  it('says which machines could not be powered off, and why', async () => {
    const { api } = fakeApi([machine('ok', 'running'), machine('bad', 'running')], { broken: ['bad'] });
    const report = await shutdownAll(api, activeMachines(await api.listMachines()));
    expect(report.unresponsive.map((m) => m.name)).toEqual(['bad']);
    expect(await powerOffAll(api, report.unresponsive)).toEqual([{ name: 'bad', reason: 'agent gone' }]);
  });

  it('counts a machine that stopped by itself meanwhile as stopped', async () => {
    const list = [machine('gone', 'running')];
    const { api } = fakeApi(list);
    const active = activeMachines(await api.listMachines());
    list.splice(0);
    expect(await shutdownAll(api, active)).toEqual({ stopped: ['gone'], unresponsive: [] });
  });
});
