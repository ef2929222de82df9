import type { ApiMethod, VmdeskApi } from './contract.js';

/** The client side: an object with every method of the contract, each forwarded to `call`. */
export function createApiProxy(call: (method: ApiMethod, args: unknown[]) => Promise<unknown>): VmdeskApi {
  return new Proxy({} as VmdeskApi, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => call(name as ApiMethod, args);
    },
  });
}
