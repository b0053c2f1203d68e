import { createRouter, createWebHashHistory } from 'vue-router'
import { signedIn } from './api/token'

// Hash history: the console works under any prefix (/console/, the Console function's URL)
// without the server knowing its routes.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/dashboard' },
    { path: '/sign-in', name: 'sign-in', component: () => import('./views/SignIn.vue'), meta: { public: true } },
    { path: '/dashboard', name: 'dashboard', component: () => import('./views/Dashboard.vue') },
    { path: '/tables', name: 'tables', component: () => import('./views/Tables.vue') },
    { path: '/tables/:cluster/:db/:table', name: 'table', component: () => import('./views/TableDetail.vue'), props: true },
    { path: '/tasks', name: 'tasks', component: () => import('./views/Tasks.vue') },
    { path: '/tasks/:id', name: 'task', component: () => import('./views/TaskDetail.vue'), props: true },
    { path: '/clusters', name: 'clusters', component: () => import('./views/Clusters.vue') },
    { path: '/scheduler', name: 'scheduler', component: () => import('./views/Scheduler.vue') },
    { path: '/:rest(.*)*', redirect: '/dashboard' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !signedIn()) {
    return { name: 'sign-in', query: to.fullPath !== '/dashboard' ? { next: to.fullPath } : {} }
  }
  return true
})
