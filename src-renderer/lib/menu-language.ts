/**
 * The desktop app's native menu speaks the language the window shows: the desktop's at first, the
 * user's choice in File › Preferences… › Language once made. The browser face has no native menu
 * (its menus are the page's own), so it asks nothing.
 */
import { watch } from 'vue';
import { api } from '../api/client';
import { i18n } from '../i18n';

export function menuFollowsLanguage(): void {
  if (!window.vmdesk) return;
  watch(
    () => i18n.global.locale.value,
    (locale) => void api.setMenuLanguage(locale).catch((err: unknown) => console.warn('VMDesk: the menu keeps its language:', err)),
    { immediate: true },
  );
}
