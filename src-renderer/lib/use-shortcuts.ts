import { onBeforeUnmount, onMounted } from 'vue';
import { runCommand } from '../commands';
import { commandForKey, currentFace } from './shortcuts';

/** The face's shortcuts (Ctrl+N / Ctrl+S in the app, Ctrl+Alt+N / Ctrl+Alt+S in a browser), and the commands of Electron's native menu. */
export function useShortcutsAndMenu(): void {
  const face = currentFace();
  const onKey = (e: KeyboardEvent): void => {
    const id = commandForKey(e, face);
    if (!id) return;
    e.preventDefault();
    runCommand(id);
  };
  let stopMenu: (() => void) | undefined;
  onMounted(() => {
    window.addEventListener('keydown', onKey);
    stopMenu = window.vmdesk?.onMenuCommand((id) => runCommand(id));
  });
  onBeforeUnmount(() => {
    window.removeEventListener('keydown', onKey);
    stopMenu?.();
  });
}
