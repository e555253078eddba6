import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import type { Logger } from 'pino';
import { buildListenerApp, type ListenerSpec } from './listener.js';
import { preparedWireError, writePrepared } from './reply.js';

/**
 * Start-up laziness that changes no behaviour (docs/performance.md, start-up): code of a surface that
 * no client needs in a process's first milliseconds is loaded, and its fastify app built, when it is
 * first used.
 */

/**
 * A fastify plugin whose module is imported when the plugin is registered: `load` resolves to the
 * plugin, which is then registered with the options given here, in the same encapsulation context
 * (this wrapper is `skip-override`), exactly as if it had been listed itself. For plugins of surfaces
 * built on first use (the proxy's surfaces, `deferredListener`), so that their code stays out of
 * `import('azimds')`.
 * @example `{ plugin: lazyPlugin(() => import('./plugin.js').then((m) => m.controlPlugin)), options: { state } }`
 */
export function lazyPlugin<Options extends FastifyPluginOptions>(
  load: () => Promise<FastifyPluginAsync<Options>>,
): FastifyPluginAsync<Options> {
  const plugin: FastifyPluginAsync<Options> = async (app, options) => {
    await app.register(await load(), options);
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}

/**
 * The ListenerSpec that `startListener` binds in place of `spec` when `spec`'s app can wait for its
 * first request (the control API and the dashboard: 30–50 ms of a cold start, most of it first-run
 * code of their plugins). Its port listens at once, with the connection-level guards and timeouts
 * of any listener in `spec`'s error shape; `spec`'s own app (every plugin, gate, route and error of
 * it) is built on the first request, and every request is handed to it as the proxy hands requests
 * to a surface (`server.emit('request')`, server/proxy/proxy-server.ts). Requests that arrive while
 * it is being built wait for it. A build that fails answers that request with the surface's 500 and
 * is tried again on the next one. Closing the listener closes the built app.
 */
export function deferredListener(spec: ListenerSpec, log: Logger): ListenerSpec {
  let building: Promise<FastifyInstance> | undefined;
  let built: FastifyInstance | undefined;
  const build = (): Promise<FastifyInstance> => {
    building ??= buildListenerApp(spec, log).then(async (app) => {
      await app.ready();
      built = app;
      return app;
    });
    return building;
  };
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    if (built) {
      built.server.emit('request', req, res);
      return;
    }
    build().then(
      (app) => app.server.emit('request', req, res),
      (error: unknown) => {
        building = undefined;
        log.error({ err: error, listener: spec.name }, 'cannot build the listener');
        if (res.headersSent) res.destroy();
        else writePrepared(res, preparedWireError(spec.errors.internal(undefined, error), spec.headers));
      },
    );
  };
  const handOver: FastifyPluginAsync = async (app) => {
    // This app's own routing is never used: every request goes to the built app.
    for (const listener of app.server.listeners('request')) {
      app.server.removeListener('request', listener as (...args: unknown[]) => void);
    }
    app.server.on('request', dispatch);
    app.addHook('onClose', async () => {
      const app = await building?.catch(() => undefined);
      built = undefined;
      await app?.close();
    });
  };
  return {
    name: spec.name,
    host: spec.host,
    ...(spec.port === undefined ? {} : { port: spec.port }),
    plugins: [{ plugin: handOver as never }],
    errors: spec.errors,
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.serverOptions ? { serverOptions: spec.serverOptions } : {}),
    // The server's options follow the built app's body readers (connectionServerOptions).
    ...(spec.bodies ? { bodies: spec.bodies } : {}),
    // The built app applies `spec`'s Host guard and gates to every request.
    hostGuard: false,
  };
}
