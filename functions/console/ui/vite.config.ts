/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The build goes into the Go package's embed directory (../dist/app). Asset URLs are
// relative, so the console works at /console/, at the Console function's URL or at /.
export default defineConfig({
  base: './',
  plugins: [
    vue(),
    // Element Plus components (and their CSS) imported where templates use them.
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
    // Element Plus components import their CSS, which Node cannot load: Vite transforms them.
    server: { deps: { inline: ['element-plus'] } },
  },
})
