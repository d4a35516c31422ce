import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { initLanguage } from './lib/i18n/index.svelte';
import { initRouter } from './lib/router.svelte';
import { initTheme } from './lib/theme.svelte';

initTheme();
initLanguage();
initRouter();
mount(App, { target: document.getElementById('app')! });
