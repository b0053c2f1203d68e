import { createApp } from 'vue'
import 'element-plus/theme-chalk/base.css'
// Styles of the components used through functions (not templates), which the resolver misses.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './style.css'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'

document.documentElement.lang = i18n.global.locale.value
createApp(App).use(i18n).use(router).mount('#app')
