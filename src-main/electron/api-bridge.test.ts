import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmdeskApi } from '../api/contract.js';
import { Core } from '../core/core.js';
import { CoreService } from '../core/service.js';
import { answerApiCall, desktopApi, type SenderFrame } from './api-bridge.js';
import { rendererIndexUrl } from './security.js';

const indexUrl = rendererIndexUrl('/opt/VMDesk/resources/app.asar/dist/renderer/index.html');
const ours: SenderFrame = { url: `${indexUrl}#/`, isTopFrame: true };
const endpoint = { url: 'ws://127.0.0.1:40000', token: 'secret-token' };

describe('answerApiCall', () => {
  let home: string;
  let runtime: string;
  let api: VmdeskApi;

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'vmdesk-bridge-'));
    runtime = fs.mkdtempSync('/tmp/vmrt-');
    const core = new Core({ home, env: { ...process.env, VMDESK_HOME: home, VMDESK_RUNTIME_DIR: runtime } });
    api = desktopApi(new CoreService(core), endpoint);
  });
  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(runtime, { recursive: true, force: true });
  });

  it('refuses frames that are not our renderer, without calling the API', async () => {
    let called = false;
    const spy = new Proxy({} as VmdeskApi, {
      get: () => () => {
        called = true;
        return Promise.resolve([]);
      },
    });
    for (const frame of [
      null,
      { url: `${indexUrl}#/`, isTopFrame: false },
      { url: 'https://example.com/', isTopFrame: true },
      { url: 'file:///tmp/evil.html', isTopFrame: true },
    ]) {
      const reply = await answerApiCall(spy, frame, indexUrl, 'listMachines', []);
      expect(reply, JSON.stringify(frame)).toEqual({
        error: { code: 'INVALID_STATE', message: expect.stringContaining('Only the VMDesk window') as string },
      });
    }
    expect(called).toBe(false);
  });

  it('answers real calls against a real core', async () => {
    expect(await answerApiCall(api, ours, indexUrl, 'listMachines', [])).toEqual({ result: [] });
    expect(await answerApiCall(api, ours, indexUrl, 'listTasks', [])).toEqual({ result: [] });
  });

  it('says where the console streams are served, with their token', async () => {
    expect(await answerApiCall(api, ours, indexUrl, 'streamEndpoint', [])).toEqual({ result: endpoint });
  });

  it('answers bad input with an INVALID_INPUT error value, never a throw', async () => {
    for (const [method, args] of [
      ['noSuchMethod', []],
      [42, []],
      [null, null],
      ['__proto__', []],
      ['constructor', []],
      ['getMachine', []],
      ['getMachine', [42]],
      ['getMachine', ['x'.repeat(1000)]],
      ['listMachines', ['extra']],
      ['listMachines', 'not an array'],
      ['shutdownMachine', ['vm', { timeoutMs: -1 }]],
      ['readLog', ['vm', 'passwords']],
    ] as [unknown, unknown][]) {
      const reply = await answerApiCall(api, ours, indexUrl, method, args);
      expect(reply, `${String(method)} ${JSON.stringify(args)}`).toEqual({
        error: { code: 'INVALID_INPUT', message: expect.any(String) as string },
      });
    }
  });

  it('passes the core’s own errors through as values', async () => {
    const reply = await answerApiCall(api, ours, indexUrl, 'getMachine', ['no-such-machine']);
    expect(reply).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const cancel = await answerApiCall(api, ours, indexUrl, 'cancelTask', ['no-such-task']);
    expect(cancel).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('keeps the core service’s methods (they live on its prototype)', () => {
    expect(typeof api.listMachines).toBe('function');
    expect(typeof api.startMachine).toBe('function');
  });
});
