import './lib/zod-jitless';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import './element-styles';
import 'element-plus/theme-chalk/dark/css-vars.css';
import './styles.css';
import App from './App.vue';
import { followSystemColorScheme } from './lib/theme';

followSystemColorScheme();
createApp(App).use(createPinia()).mount('#app');
