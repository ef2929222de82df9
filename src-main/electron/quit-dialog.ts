/**
 * Closing the main window while machines run: ask, then keep them running (they are separate
 * processes and survive the app), or shut them down (ACPI with a timeout, then power off), or stay.
 * The decisions themselves are the pure functions of quit-decision.ts.
 */
import { dialog, type BrowserWindow } from 'electron';
import type { CoreApi } from '../core/service.js';
import { QUIT_BUTTONS, activeMachines, choiceFromResponse, powerOffAll, quitQuestion, shutdownAll } from './quit-decision.js';

type QuitApi = Pick<CoreApi, 'listMachines' | 'shutdownMachine' | 'resumeMachine'>;

/** May the app quit now? Shuts the machines down first when the user chose that. */
export async function decideQuit(win: BrowserWindow, api: QuitApi): Promise<boolean> {
  // A library that cannot be read has nothing to ask about: running machines survive the app anyway.
  const active = activeMachines(await api.listMachines().catch(() => []));
  if (active.length === 0) return true;
  const { message, detail } = quitQuestion(active);
  const { response } = await dialog.showMessageBox(win, {
    type: 'question',
    title: 'Quit VMDesk',
    buttons: [...QUIT_BUTTONS],
    defaultId: 0,
    cancelId: QUIT_BUTTONS.length - 1,
    noLink: true,
    message,
    detail,
  });
  const choice = choiceFromResponse(response);
  if (choice !== 'shutdown') return choice === 'keep';

  const title = win.getTitle();
  win.setTitle(`VMDesk — shutting down ${active.length === 1 ? '1 machine' : `${active.length} machines`}…`);
  const report = await shutdownAll(api, active);
  const failures = report.unresponsive.length > 0 ? await powerOffAll(api, report.unresponsive) : [];
  if (!win.isDestroyed()) win.setTitle(title);
  if (failures.length > 0) {
    await dialog.showMessageBox(win, {
      type: 'warning',
      title: 'Quit VMDesk',
      buttons: ['Quit'],
      message: failures.length === 1 ? 'A machine could not be stopped.' : `${failures.length} machines could not be stopped.`,
      detail: `${failures.map((f) => `${f.name}: ${f.reason}`).join('\n')}\n\nThey go on running in the background.`,
    });
  }
  return true;
}
