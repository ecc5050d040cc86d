import { defineConfig, loadEnv } from 'vite';

// `npm run build` writes dist/ here; CMake passes `--outDir <build>/web/dist --emptyOutDir`.
// `npm run dev` serves the sources with HMR and proxies /ws to a running gateway:
//   EDGEMON_GATEWAY=http://127.0.0.1:8080 npm run dev
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', 'EDGEMON_');
  const gateway = env['EDGEMON_GATEWAY'] ?? 'http://127.0.0.1:8080';
  return {
    // Relative asset URLs, so the gateway (or a reverse proxy) may serve the page under any prefix.
    base: './',
    build: {
      target: 'es2020',
      outDir: 'dist',
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      sourcemap: false,
    },
    server: {
      proxy: { '/ws': { target: gateway, ws: true } },
    },
  };
});
