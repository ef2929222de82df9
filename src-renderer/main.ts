import './lib/zod-jitless';
// Before the rest: its WebSocket then opens while the window's modules are evaluated.
import { apiReady } from './api/client';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import './element-styles';
import 'element-plus/theme-chalk/dark/css-vars.css';
import './styles.css';
import App from './App.vue';
import { followSystemColorScheme } from './lib/theme';
import { i18n, setUpLanguage } from './i18n';
import { menuFollowsLanguage } from './lib/menu-language';
import { route } from './lib/route';
import { loadMainWindowData } from './lib/main-window-data';

followSystemColorScheme();
const app = createApp(App).use(createPinia()).use(i18n);
// The main window's machines are asked for before the window is built, once the API's connection
// is open: the core reads the library while the page mounts the window, not after (issue 12).
if (route.value.name !== 'console') void loadMainWindowData();
// The language first (German fetched if it is the one shown), so the first paint is in it.
await Promise.all([setUpLanguage(), apiReady()]);
app.mount('#app');
menuFollowsLanguage();
