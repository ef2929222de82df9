/** German for the core's messages: one catalogue of the four areas (see messages.test.ts). */
import type { Catalogue } from '../localise.js';
import machines from './machines.js';
import portability from './portability.js';
import remote from './remote.js';
import storage from './storage.js';

export const areas = { machines, storage, portability, remote } as const;

export type Area = keyof typeof areas;

const de: Catalogue = { ...machines, ...storage, ...portability, ...remote };

export default de;
