/**
 * The server side of the generic proxy: a request names a method of the contract and carries its
 * arguments; both are checked here, for every front end, before the implementation runs.
 */
import { API_ARGUMENTS, isApiMethod, type VmdeskApi } from './contract.js';
import { VmdeskError } from './errors.js';
import { describeIssues } from './validation.js';

/** A method name that is not one, as a message shows it: JSON.stringify throws on a BigInt or a cycle (IPC carries both). */
function shownMethod(method: unknown): string {
  if (typeof method === 'string') return JSON.stringify(method.slice(0, 80));
  return typeof method === 'number' || typeof method === 'boolean' || method === null
    ? String(method)
    : `(a value of type ${typeof method})`;
}

export async function dispatch(api: VmdeskApi, method: unknown, args: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new VmdeskError('INVALID_INPUT', `Unknown operation: ${shownMethod(method)}`);
  const parsed = API_ARGUMENTS[method].safeParse(args ?? []);
  if (!parsed.success) throw new VmdeskError('INVALID_INPUT', `Invalid arguments for ${method}: ${describeIssues(parsed.error.issues)}`);
  const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
  return fn.apply(api, parsed.data as unknown[]);
}
