import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceProblems } from '../../src-main/api/resources';
import { defaultResources } from '../../src-main/api/machine-config';
import en from './en';
import { showLocale } from './index';
import { messagePattern } from '../../src-main/api/messages/localise';
import { localizeApiMessage } from './core-messages';
import { nameError } from '../lib/wizard-input';
import { hostFormErrors, emptyHostForm } from '../lib/host-form';
import { pinningOf } from '../lib/settings-input';

type Tree = { [key: string]: string | Tree };
const leaves = (tree: Tree, prefix = ''): [string, string][] =>
  Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [[`${prefix}${k}`, v] as [string, string]] : leaves(v, `${prefix}${k}.`),
  );

// The API's sources as text (Vite's glob: the renderer's tests import nothing of Node).
const api = import.meta.glob<string>(['../../src-main/api/*.ts', '!../../src-main/api/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});
/** Every string and template literal of src-main/api, each ${…} as one mark. */
const literals = new Set(
  Object.values(api).flatMap((source) =>
    [...source.matchAll(/'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)].map((m) =>
      (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1').replace(/\$\{(?:[^{}]|\{[^}]*\})*\}/g, '\u0001'),
    ),
  ),
);
/** A catalogue message the same way: each {name} one mark, {'@'} its character. */
const marked = (message: string): string => message.replace(/\{'([^']*)'\}/g, '$1').replace(/\{\w+\}/g, '\u0001');

describe('the API’s refusals in the catalogue', () => {
  it('are worded, each, as src-main/api words them (a reworded message fails here, not silently in German)', () => {
    expect(Object.keys(api).length).toBeGreaterThan(10);
    const stale = leaves(en.core as Tree).filter(([, message]) => !literals.has(marked(message)));
    expect(stale).toEqual([]);
  });

  it('recognise a message with what the core put in', () => {
    const { pattern, names } = messagePattern('A CPU cap of {cap} % is more than {cpus} vCPU{s} can use (at most {max} %)');
    expect(names).toEqual(['cap', 'cpus', 's', 'max']);
    expect(pattern.exec('A CPU cap of 201 % is more than 2 vCPUs can use (at most 200 %)')?.slice(1)).toEqual(['201', '2', 's', '200']);
    expect(pattern.exec('A CPU cap of 150 % is more than 1 vCPU can use (at most 100 %)')?.slice(1)).toEqual(['150', '1', '', '100']);
    expect(messagePattern("user{'@'}host").pattern.test('user@host')).toBe(true);
  });
});

describe('the API’s refusals shown in German', () => {
  beforeAll(() => showLocale('de'));
  afterAll(() => showLocale('en'));

  it('translates what the forms check with the core’s schemas, figures kept', () => {
    expect(nameError('', new Set())).toBe('Der Name darf nicht leer sein');
    expect(hostFormErrors(emptyHostForm()).destination).toBe(
      'Ein SSH-Ziel wird gebraucht (benutzer@host, oder ein Alias aus ~/.ssh/config)',
    );
    expect(pinningOf('x', null)).toEqual({ error: '„x“ ist keine CPU-Bindung: Schreiben Sie Paare vCPU:Host-CPU, z. B. 0:1,1:0' });
    const problem = resourceProblems({ cpus: 2, memoryMiB: 1024, resources: { ...defaultResources(), cpuCap: 201 } })[0] ?? '';
    expect(localizeApiMessage(problem)).toBe('Eine CPU-Grenze von 201 % ist mehr, als 2 vCPUs nutzen können (höchstens 200 %)');
  });

  it('leaves what it does not know as the core words it', () => {
    expect(localizeApiMessage('qemu-img: Could not open the file')).toBe('qemu-img: Could not open the file');
  });
});

describe('the API’s refusals in English', () => {
  it('are the core’s own words, untouched', () => {
    expect(nameError('', new Set())).toBe('The name must not be empty');
    expect(localizeApiMessage('The name must not be empty')).toBe('The name must not be empty');
  });
});
