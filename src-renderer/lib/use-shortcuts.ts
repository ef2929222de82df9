import { onBeforeUnmount, onMounted } from 'vue';
import { runCommand, type CommandId } from '../commands';

const SHORTCUTS: Record<string, CommandId> = { n: 'machine.new', s: 'machine.settings' };

/** Ctrl+N / Ctrl+S, and the commands of Electron's native menu. */
export function useShortcutsAndMenu(): void {
  const onKey = (e: KeyboardEvent): void => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
    const id = SHORTCUTS[e.key.toLowerCase()];
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
