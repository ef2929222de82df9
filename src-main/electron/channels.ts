/**
 * The three IPC channels between the main process and the preload, named once. The API itself has
 * no channel per operation: one invoke channel carries `(method, args)` of the contract.
 */
export const IPC_CHANNELS = {
  /** renderer → main, invoke: `(method, args)` → `{ result } | { error }`. */
  call: 'vmdesk:call',
  /** main → renderer: `{ event, data }` for every event of the contract. */
  event: 'vmdesk:event',
  /** main → renderer: the id of a command chosen in the application menu. */
  menu: 'vmdesk:menu',
} as const;
