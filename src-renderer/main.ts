import './lib/zod-jitless';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import './element-styles';
import 'element-plus/theme-chalk/dark/css-vars.css';
import './styles.css';
import App from './App.vue';
import { followSystemColorScheme } from './lib/theme';
import { i18n, setUpLanguage } from './i18n';
import { menuFollowsLanguage } from './lib/menu-language';

followSystemColorScheme();
// The language first (German fetched if it is the one shown), so the first paint is in it.
await setUpLanguage();
createApp(App).use(createPinia()).use(i18n).mount('#app');
menuFollowsLanguage();
