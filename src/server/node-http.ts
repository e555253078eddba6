import { createRequire } from 'node:module';

/**
 * `node:http` as its CommonJS exports. Importing a value from `node:http` in an ES module makes Node
 * build the module's ESM facade, which reads every export, getters included: `WebSocket`, `CloseEvent`
 * and `MessageEvent` load Node's bundled undici, 50–100 ms of a cold start-up on Node 24 that nothing of
 * azimds uses. `require` reads only what is used. Types still come from `import type ... 'node:http'`.
 */
export const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
