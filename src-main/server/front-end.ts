/** The parts of the contract a front end answers itself, where it has nothing to do. */

/** A front end without a native menu (the browser face, a remote host's stdio): its menus are the page's own. */
export const noNativeMenu = (): Promise<{ nativeMenu: boolean }> => Promise.resolve({ nativeMenu: false });
