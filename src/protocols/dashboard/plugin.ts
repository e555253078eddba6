import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';
import type { RequestLogEntry } from '../../server/request-log.js';
import { overview } from './overview.js';
import { ALWAYS_HIDDEN, DASHBOARD_PANELS } from './panels.js';

/**
 * Where the page's files are: `assets/dashboard/` at the package root, which is three levels above
 * both src/protocols/dashboard/ and dist/protocols/dashboard/ (package.json `files` ships it).
 */
const ASSETS = new URL('../../../assets/dashboard/', import.meta.url);

/**
 * The page's Content-Security-Policy: its own scripts, styles and API only; nothing inline, nothing
 * from another origin, no framing, no form posts.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** A token the request log kept decoded, with the request that carried it (`GET /dashboard/tokens`). */
export interface IssuedTokenView {
  seq: number;
  time: string;
  surface: string;
  path: string;
  identity?: string;
  where: string;
  header: Readonly<Record<string, unknown>>;
  claims: Readonly<Record<string, unknown>>;
  verified: boolean;
}

/**
 * The dashboard (docs/dashboard.md), on the control listener:
 * - `GET /dashboard`: the page (assets/dashboard/index.html with the panel table, panels.ts, inlined
 *   as JSON), `GET /dashboard/app.js`, `GET /dashboard/app.css`;
 * - `GET /dashboard/overview`: the VM(s), identities, listeners and the SDK environment block;
 * - `GET /dashboard/tokens`: tokens issued (decoded; the newest `requestLog.details` requests);
 * - `GET /logs/:seq`: one request of the log with its detail (headers, bodies, decoded tokens) when kept.
 * Files are read once, when the listener's app is built (its first request, server/lazy-surface.ts); no
 * build step and nothing fetched at run time.
 */
export const dashboardPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const asset = (name: string) => readFileSync(new URL(name, ASSETS), 'utf8');
  const files: Record<string, { type: string; body: string }> = {
    'index.html': { type: 'text/html; charset=utf-8', body: asset('index.html') },
    'app.js': { type: 'text/javascript; charset=utf-8', body: asset('app.js') },
    'app.css': { type: 'text/css; charset=utf-8', body: asset('app.css') },
  };
  const send = (reply: FastifyReply, name: string) => {
    const file = files[name] as { type: string; body: string };
    return reply.headers(SECURITY_HEADERS).type(file.type).send(file.body);
  };
  // The styles go inline (one request less before the first paint), allowed by their hash alone.
  const css = (files['app.css'] as { body: string }).body;
  const styleHash = createHash('sha256').update(css).digest('base64');
  const pageHeaders = {
    ...SECURITY_HEADERS,
    'content-security-policy': DASHBOARD_CSP.replace(
      "style-src 'self'",
      `style-src 'self' 'sha256-${styleHash}'`,
    ),
  };
  // The page with its panel table inlined, built at the first request: by then every plugin of the
  // listener has registered its routes, so an optional panel is listed exactly when its source exists.
  let page: string | undefined;
  const sendPage = (reply: FastifyReply) => {
    page ??= (files['index.html'] as { body: string }).body
      .replace('<link rel="stylesheet" href="/dashboard/app.css">', () => `<style>${css}</style>`)
      .replace(
        '{"panels":[]}',
        JSON.stringify({
          panels: DASHBOARD_PANELS.filter(
            (p) => !p.optional || app.hasRoute({ method: 'GET', url: p.source }),
          ),
          alwaysHidden: ALWAYS_HIDDEN,
        }).replaceAll('<', '\\u003c'),
      );
    return reply.headers(pageHeaders).type('text/html; charset=utf-8').send(page);
  };

  app.get('/dashboard', async (_request, reply) => sendPage(reply));
  app.get('/dashboard/app.js', async (_request, reply) => send(reply, 'app.js'));
  app.get('/dashboard/app.css', async (_request, reply) => send(reply, 'app.css'));

  app.get('/dashboard/overview', async () => overview(state));

  app.get('/dashboard/tokens', async () => {
    const details = state.requestDetails.all();
    const first = details[0]?.seq;
    const bySeq = new Map<number, RequestLogEntry>();
    if (first !== undefined) {
      for (const e of state.requestLog.entries({ after: first - 1 }).entries) bySeq.set(e.seq, e);
    }
    const tokens: IssuedTokenView[] = [];
    for (const detail of details) {
      const entry = bySeq.get(detail.seq);
      if (!entry) continue;
      for (const token of detail.tokens) {
        if (!token.where.startsWith('response')) continue;
        tokens.push({
          seq: entry.seq,
          time: entry.time,
          surface: entry.surface,
          path: entry.path,
          ...(entry.identity === undefined ? {} : { identity: entry.identity }),
          ...token,
        });
      }
    }
    return { tokens: tokens.reverse() };
  });

  app.get<{ Params: { seq: string } }>('/logs/:seq', async (request, reply) => {
    const seq = Number(request.params.seq);
    const entry = Number.isSafeInteger(seq)
      ? state.requestLog.entries({ after: seq - 1 }).entries.find((e) => e.seq === seq)
      : undefined;
    if (!entry) {
      return sendWireError(
        reply,
        controlError(404, 'LogEntryNotFound', `no request ${request.params.seq} in the request log`),
      );
    }
    return { entry, detail: state.requestDetails.get(seq) ?? null };
  });
};
