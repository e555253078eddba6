// azimds dashboard (docs/dashboard.md): plain browser JavaScript, no framework, no build step.
// Every panel is a row of the table in src/protocols/dashboard/panels.ts, inlined into the page as
// JSON; its `view` picks a renderer below. Text from the emulator is only ever set as text (never
// as HTML), and every change sends the X-Azimds-Control header the control API requires.

const config = JSON.parse(document.getElementById('azimds-config').textContent);
const ROW = 26; // px, as --row in app.css
const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time', 'xms_tcdt', 'rh_exp']);

// --- helpers ------------------------------------------------------------------------------------

/** Creates an element: el('td', { class: 'k' }, 'text', child, ...). Attributes starting with "on" are listeners. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    // Through the CSSOM: the Content-Security-Policy forbids style attributes.
    else if (name === 'style') Object.assign(node.style, value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let uid = 0;
/** A labelled control: <label>Text<input id=…></label>. */
function field(text, control) {
  control.id ||= `f${++uid}`;
  return el('label', { for: control.id }, text, control);
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the control API; JSON in and out. Changes carry the header the control API requires. */
async function api(method, path, body, signal) {
  const headers = { 'x-azimds-control': '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    signal,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined;
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

const statusLine = document.getElementById('status');
function say(message, kind = '') {
  statusLine.textContent = message;
  statusLine.className = kind;
}

/** Runs an action from a button or form; shows its error in the status line. */
async function act(what, fn) {
  try {
    await fn();
    say(`${what}: done`, 'ok');
  } catch (error) {
    say(`${what}: ${error.message}`, 'bad');
  }
}

function date(ms) {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function relative(ms, now = Date.now()) {
  const s = Math.round((ms - now) / 1000);
  const abs = Math.abs(s);
  const text = abs < 120 ? `${abs}s` : abs < 7200 ? `${Math.round(abs / 60)}m` : `${Math.round(abs / 3600)}h`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
}

function statusClass(status) {
  if (status === null) return 'bad';
  return status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'ok';
}

function keyValueTable(object, caption) {
  const rows = Object.entries(object ?? {});
  if (rows.length === 0) return el('p', { class: 'muted' }, `${caption}: none`);
  return el(
    'table',
    {},
    el('caption', { class: 'muted' }, caption),
    el(
      'tbody',
      {},
      rows.map(([k, v]) =>
        el('tr', {}, el('td', { class: 'k mono' }, k), el('td', { class: 'mono' }, show(v))),
      ),
    ),
  );
}

function show(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A body as text, JSON indented for reading. */
function pretty(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A decoded token: where it was, whether azimds's JWKS verifies it, its header and claims (times as dates). */
function tokenView(token) {
  const claims = Object.entries(token.claims).map(([name, value]) => {
    const isTime = TIME_CLAIMS.has(name) && typeof value === 'number';
    return el(
      'tr',
      {},
      el('td', { class: 'k mono' }, name),
      el(
        'td',
        { class: 'mono' },
        isTime ? `${date(value * 1000)} (${relative(value * 1000, clockNow())}) · ${value}` : show(value),
      ),
    );
  });
  return el(
    'div',
    { class: 'token' },
    el(
      'h3',
      {},
      `JWT in ${token.where} `,
      token.verified
        ? el('span', { class: 'badge ok', 'data-verified': 'true' }, 'signature verified (azimds JWKS)')
        : el(
            'span',
            { class: 'badge bad', 'data-verified': 'false' },
            'signature NOT verified by azimds JWKS',
          ),
    ),
    keyValueTable(token.header, 'Header'),
    el('table', {}, el('caption', { class: 'muted' }, 'Claims'), el('tbody', {}, claims)),
  );
}

// The emulator's clock can be moved: token times are compared with it, not the browser's.
let clockOffset = 0;
function clockNow() {
  return Date.now() + clockOffset;
}
async function syncClock() {
  const clock = await api('GET', '/clock');
  clockOffset = clock.epochMs - Date.now();
  return clock;
}

// --- views ---------------------------------------------------------------------------------------

const views = {
  overview(section) {
    const body = el('div');
    section.append(body);
    return {
      async show() {
        const o = await api('GET', '/dashboard/overview');
        const copy = el('button', { type: 'button', class: 'copy' }, 'Copy');
        copy.addEventListener('click', () => act('Copy', () => navigator.clipboard.writeText(o.env)));
        body.replaceChildren(
          el('h2', {}, o.vms.length === 1 ? 'VM' : `VMs (${o.vms.length})`),
          ...o.vms.map((vm) => keyValueTable(vm, vm.name)),
          el('h2', {}, 'Managed identities'),
          el('p', { class: 'muted' }, `tenant ${o.tenantId}`),
          table(
            ['Kind', 'Name', 'Client id', 'Principal id', 'Resource id'],
            o.identities.map((i) => [i.kind, i.name, i.clientId, i.principalId, i.resourceId]),
          ),
          el('h2', {}, 'Listeners'),
          table(
            ['Surface', 'URL'],
            Object.entries(o.listeners).map(([name, url]) => [name, url]),
          ),
          el('h2', {}, 'Point the Azure SDKs at it'),
          el('div', { class: 'env' }, el('pre', { 'aria-label': 'environment block' }, o.env), copy),
        );
      },
    };
  },

  requests(section) {
    return requestsView(section);
  },

  tokens(section) {
    const body = el('div');
    section.append(
      el(
        'p',
        { class: 'muted' },
        'Tokens azimds answered with, newest first, decoded (the tokens themselves are never kept).',
      ),
      body,
    );
    return {
      async show() {
        const { tokens } = await api('GET', '/dashboard/tokens');
        if (tokens.length === 0) {
          body.replaceChildren(el('p', { class: 'muted' }, 'No token issued yet.'));
          return;
        }
        body.replaceChildren(
          ...tokens
            .slice(0, 200)
            .map((t) =>
              el(
                'details',
                {},
                el(
                  'summary',
                  {},
                  `#${t.seq} ${t.time} ${t.surface} `,
                  el('span', { class: 'mono' }, String(t.claims.aud ?? '')),
                  ` oid ${t.claims.oid ?? '?'} `,
                  typeof t.claims.exp === 'number' ? `expires ${date(t.claims.exp * 1000)} ` : '',
                  el(
                    'span',
                    { class: `badge ${t.verified ? 'ok' : 'bad'}` },
                    t.verified ? 'verified' : 'not verified',
                  ),
                ),
                tokenView(t),
              ),
            ),
        );
      },
    };
  },

  events(section) {
    return eventsView(section);
  },

  faults(section) {
    const list = el('div');
    const path = el('input', { value: '/metadata/identity/oauth2/token', size: 34, name: 'path' });
    const status = el(
      'select',
      { name: 'status' },
      ['429', '500', '503', '404', '410'].map((s) => el('option', { value: s }, s)),
    );
    const surface = el('input', { placeholder: 'any', size: 10, name: 'surface' });
    const times = el('input', { type: 'number', min: 1, placeholder: 'always', size: 6, name: 'times' });
    const latency = el('input', { type: 'number', min: 0, placeholder: '0', size: 6, name: 'latencyMs' });
    const form = el(
      'form',
      { class: 'bar', 'aria-label': 'Add a fault rule' },
      field('Path (* matches anything)', path),
      field('Status', status),
      field('Surface', surface),
      field('Times', times),
      field('Latency ms', latency),
      el('button', { type: 'submit', class: 'primary' }, 'Add fault'),
    );
    const clear = el('button', { type: 'button' }, 'Clear all faults');
    section.append(form, el('div', { class: 'bar' }, clear), list);
    const view = {
      async show() {
        const { faults } = await api('GET', '/faults');
        list.replaceChildren(
          faults.length === 0
            ? el('p', { class: 'muted' }, 'No fault rule: every request is answered normally.')
            : table(
                ['Id', 'Surface', 'Method', 'Path', 'Effect', 'Left', 'Hits', ''],
                faults.map((f) => [
                  f.id,
                  f.surface ?? 'any',
                  f.method ?? 'any',
                  f.path ?? '*',
                  f.status ??
                    (f.reset ? 'reset' : f.throttle ? 'throttle' : f.latencyMs ? `+${f.latencyMs}ms` : ''),
                  f.expired ? 'used up' : (f.remaining ?? '∞'),
                  f.hits,
                  el(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Delete fault ${f.id}`,
                      onclick: () =>
                        act(`Delete fault ${f.id}`, async () => {
                          await api('DELETE', `/faults/${encodeURIComponent(f.id)}`);
                          await view.show();
                        }),
                    },
                    'Delete',
                  ),
                ]),
              ),
        );
      },
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act('Add fault', async () => {
        const rule = { path: path.value || undefined, status: Number(status.value) };
        if (surface.value) rule.surface = surface.value;
        if (times.value) rule.times = Number(times.value);
        if (latency.value) rule.latencyMs = Number(latency.value);
        await api('POST', '/faults', rule);
        await view.show();
      });
    });
    clear.addEventListener('click', () =>
      act('Clear faults', async () => {
        await api('DELETE', '/faults');
        await view.show();
      }),
    );
    return view;
  },

  clock(section) {
    const now = el('p', { class: 'mono', 'aria-live': 'polite' });
    const by = el('input', { value: '10m', size: 8, name: 'by' });
    const advance = el(
      'form',
      { class: 'bar', 'aria-label': 'Advance the clock' },
      field('Advance by (e.g. 10m, 1h30m, -5m)', by),
      el('button', { type: 'submit', class: 'primary' }, 'Advance'),
    );
    const reset = el('button', { type: 'button' }, 'Reset to real time');
    section.append(now, advance, el('div', { class: 'bar' }, reset));
    const view = {
      async show() {
        const clock = await syncClock();
        now.textContent = `Emulator time ${clock.now} (offset ${clock.offsetMs} ms from real time)`;
      },
    };
    advance.addEventListener('submit', (event) => {
      event.preventDefault();
      act('Advance clock', async () => {
        await api('POST', '/clock/advance', { by: /^-?\d+$/.test(by.value) ? Number(by.value) : by.value });
        await view.show();
      });
    });
    reset.addEventListener('click', () =>
      act('Reset clock', async () => {
        await api('POST', '/clock/reset');
        await view.show();
      }),
    );
    return view;
  },

  /** Every array in the answer becomes a table (the plug-in view of surfaces built elsewhere). */
  tables(section, panel) {
    const body = el('div');
    section.append(body);
    const hidden = new Set([...(panel.hidden ?? []), ...config.alwaysHidden].map((h) => h.toLowerCase()));
    // Hidden members stay hidden at any depth (a vault's secrets inside a vault row).
    const redact = (value) =>
      Array.isArray(value)
        ? value.map(redact)
        : value && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value).map(([k, v]) => [
                k,
                hidden.has(k.toLowerCase()) ? '(hidden)' : redact(v),
              ]),
            )
          : value;
    const cell = (name, value) =>
      hidden.has(name.toLowerCase()) ? '(hidden)' : value === undefined ? '' : show(redact(value));
    return {
      async show() {
        const data = await api('GET', panel.source);
        const tables = [];
        const walk = (value, title) => {
          if (Array.isArray(value)) {
            const items = value.filter((v) => v && typeof v === 'object' && !Array.isArray(v));
            const columns = [...new Set(items.flatMap((v) => Object.keys(v)))].slice(0, 10);
            tables.push(
              el('h2', {}, `${title} (${value.length})`),
              items.length === 0
                ? el('p', { class: 'muted' }, value.length === 0 ? 'none' : value.map(show).join(', '))
                : table(
                    columns,
                    items.map((item) => columns.map((c) => cell(c, item[c]))),
                  ),
            );
          } else if (value && typeof value === 'object') {
            for (const [k, v] of Object.entries(value))
              if (v && typeof v === 'object') walk(v, title ? `${title} › ${k}` : k);
          }
        };
        walk(data, '');
        const scalars = Object.entries(data ?? {}).filter(([, v]) => v === null || typeof v !== 'object');
        body.replaceChildren(
          scalars.length
            ? keyValueTable(Object.fromEntries(scalars.map(([k, v]) => [k, cell(k, v)])), panel.title)
            : '',
          ...tables,
        );
      },
    };
  },
};

function table(headers, rows) {
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((cells) =>
        el(
          'tr',
          {},
          cells.map((c) => el('td', {}, c)),
        ),
      ),
    ),
  );
}

// --- requests: a virtualised list fed by a long poll -------------------------------------------

function requestsView(section) {
  const all = []; // every entry received, oldest first (the server keeps requestLog.size)
  let shown = []; // filtered, newest first
  let selected; // seq
  const surface = el('select', { name: 'surface' }, el('option', { value: '' }, 'all'));
  const status = el(
    'select',
    { name: 'status' },
    [
      ['', 'all'],
      ['2', '2xx'],
      ['3', '3xx'],
      ['4', '4xx'],
      ['5', '5xx'],
      ['err', 'errors (4xx, 5xx, none)'],
      ['none', 'no answer (reset)'],
    ].map(([v, t]) => el('option', { value: v }, t)),
  );
  const identity = el('select', { name: 'identity' }, el('option', { value: '' }, 'all'));
  const search = el('input', { type: 'search', placeholder: 'path contains…', size: 20, name: 'path' });
  const count = el('span', { class: 'muted', 'aria-live': 'polite' });
  const list = el('div', {
    class: 'vlist',
    tabindex: 0,
    role: 'listbox',
    'aria-label': 'Requests, newest first (arrow keys move, Enter opens)',
  });
  const spacer = el('div', { style: { height: '0px' } });
  list.append(spacer);
  const detail = el(
    'div',
    { class: 'detail', 'aria-live': 'polite', tabindex: -1 },
    el('p', { class: 'muted' }, 'Select a request to see what was asked and answered.'),
  );
  section.append(
    el(
      'div',
      { class: 'bar', role: 'group', 'aria-label': 'Filter requests' },
      field('Surface', surface),
      field('Status', status),
      field('Identity', identity),
      field('Path', search),
      count,
    ),
    el('div', { class: 'split' }, el('div', {}, header(), list), detail),
  );

  function header() {
    return el(
      'div',
      { class: 'vrow vhead', 'aria-hidden': 'true', style: { position: 'relative' } },
      ['#', 'Time', 'Surface', 'Verb', 'Path', 'Status', 'Identity'].map((t) => el('span', {}, t)),
    );
  }

  const surfaces = new Set();
  const identities = new Set();
  // Identity names by client id, for the list and the filter (the log records client ids).
  const names = new Map();
  api('GET', '/dashboard/overview')
    .then((o) => {
      for (const i of o.identities) names.set(i.clientId, i.name);
      for (const option of identity.options)
        if (names.has(option.value)) option.textContent = `${names.get(option.value)} (${option.value})`;
      render();
    })
    .catch(() => {});
  function noteOptions(entry) {
    if (!surfaces.has(entry.surface)) {
      surfaces.add(entry.surface);
      surface.append(el('option', { value: entry.surface }, entry.surface));
    }
    if (entry.identity && !identities.has(entry.identity)) {
      identities.add(entry.identity);
      const name = names.get(entry.identity);
      identity.append(
        el('option', { value: entry.identity }, name ? `${name} (${entry.identity})` : entry.identity),
      );
    }
  }

  function matches(e) {
    if (surface.value && e.surface !== surface.value) return false;
    if (identity.value && e.identity !== identity.value) return false;
    const s = status.value;
    if (s === 'none' && e.status !== null) return false;
    if (s === 'err' && e.status !== null && e.status < 400) return false;
    if (/^\d$/.test(s) && (e.status === null || Math.floor(e.status / 100) !== Number(s))) return false;
    if (search.value && !e.path.includes(search.value)) return false;
    return true;
  }

  function refilter() {
    shown = [];
    for (let i = all.length - 1; i >= 0; i--) if (matches(all[i])) shown.push(all[i]);
    render();
  }

  // Only the rows in view exist in the DOM: 10,000 entries cost as much as 30.
  function render() {
    spacer.style.height = `${shown.length * ROW}px`;
    count.textContent = `${shown.length} of ${all.length} requests`;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
    const last = Math.min(shown.length, first + Math.ceil((list.clientHeight || 600) / ROW) + 10);
    const rows = [];
    for (let i = first; i < last; i++) {
      const e = shown[i];
      rows.push(
        el(
          'div',
          {
            class: 'vrow',
            role: 'option',
            id: `req-${e.seq}`,
            'data-seq': e.seq,
            'aria-selected': e.seq === selected ? 'true' : 'false',
            style: { top: `${i * ROW}px` },
          },
          el('span', { class: 'muted' }, e.seq),
          el('span', {}, e.time.slice(11, 23)),
          el('span', {}, e.surface),
          el('span', {}, e.method),
          el('span', { class: 'mono', title: e.path }, e.path),
          el('span', { class: statusClass(e.status) }, e.status ?? 'reset', e.fault ? ' ⚡' : ''),
          el(
            'span',
            { class: 'mono', title: e.identity },
            (e.identity && names.get(e.identity)) ?? e.identity ?? '',
          ),
        ),
      );
    }
    spacer.replaceChildren(...rows);
    if (selected !== undefined) list.setAttribute('aria-activedescendant', `req-${selected}`);
  }

  async function open(seq) {
    selected = seq;
    render();
    try {
      const { entry, detail: d } = await api('GET', `/logs/${seq}`);
      if (selected !== seq) return;
      detail.replaceChildren(...detailView(entry, d));
    } catch (error) {
      detail.replaceChildren(el('p', { class: 'bad' }, error.message));
    }
  }

  function move(by) {
    if (shown.length === 0) return;
    let index = shown.findIndex((e) => e.seq === selected);
    // Nothing selected yet: End goes to the oldest, any other key to the newest.
    const target = index < 0 ? (by >= shown.length ? shown.length - 1 : 0) : index + by;
    index = Math.min(shown.length - 1, Math.max(0, target));
    selected = shown[index].seq;
    if (index * ROW < list.scrollTop) list.scrollTop = index * ROW;
    else if ((index + 1) * ROW > list.scrollTop + list.clientHeight)
      list.scrollTop = (index + 1) * ROW - list.clientHeight;
    render();
  }

  list.addEventListener('scroll', () => requestAnimationFrame(render));
  list.addEventListener('click', (event) => {
    const row = event.target.closest('.vrow[data-seq]');
    if (row) open(Number(row.dataset.seq));
  });
  list.addEventListener('keydown', (event) => {
    const keys = { ArrowDown: 1, ArrowUp: -1, PageDown: 20, PageUp: -20, Home: -Infinity, End: Infinity };
    if (event.key in keys) {
      event.preventDefault();
      move(
        keys[event.key] === Infinity
          ? shown.length
          : keys[event.key] === -Infinity
            ? -shown.length
            : keys[event.key],
      );
    } else if (event.key === 'Enter' && selected !== undefined) {
      event.preventDefault();
      open(selected);
    }
  });
  for (const control of [surface, status, identity]) control.addEventListener('change', refilter);
  search.addEventListener('input', refilter);

  // Live: a long poll that returns as soon as a newer entry exists.
  let last = 0;
  let first = true;
  async function follow() {
    for (;;) {
      try {
        // The first call reads what the log holds; each next one waits for newer entries.
        const page = await api('GET', `/logs?after=${last}${first ? '' : '&wait=25000'}`);
        first = false;
        if (page.last < last) all.length = 0; // the emulator restarted
        for (const e of page.entries) {
          all.push(e);
          noteOptions(e);
        }
        last = page.last;
        if (page.entries.length > 0) refilter();
        else render();
        say('live', 'ok');
      } catch (error) {
        say(`request log: ${error.message}; retrying`, 'bad');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
  follow();
  return { show: render };
}

function detailView(entry, d) {
  const parts = [
    el('h2', {}, `#${entry.seq} ${entry.method} ${entry.path}`),
    el(
      'p',
      {},
      el(
        'span',
        { class: `badge ${statusClass(entry.status)}` },
        entry.status ?? 'no answer (connection reset)',
      ),
      ` ${entry.surface} · ${entry.time} · ${entry.latencyMs} ms · from ${entry.client}`,
      entry.identity ? ` · identity ${entry.identity}` : '',
      entry.fault ? ` · fault rule ${entry.fault}` : '',
    ),
    keyValueTable(entry.query, 'Query'),
  ];
  if (!d) {
    parts.push(
      el(
        'p',
        { class: 'muted' },
        'Headers and bodies are kept for the newest requests only (requestLog.details).',
      ),
    );
    return parts;
  }
  parts.push(
    el('h3', {}, 'Request'),
    keyValueTable(d.request.headers, 'Headers'),
    d.request.body === undefined
      ? el('p', { class: 'muted' }, 'No body.')
      : el('pre', { 'aria-label': 'request body' }, pretty(d.request.body)),
    el('h3', {}, `Answer ${d.response.status}`),
    keyValueTable(d.response.headers, 'Headers'),
    d.response.body === undefined
      ? el('p', { class: 'muted' }, 'No body.')
      : el('pre', { 'aria-label': 'response body' }, pretty(d.response.body)),
    ...d.tokens.map(tokenView),
  );
  return parts;
}

// --- scheduled events: a timeline and a table ---------------------------------------------------

function eventsView(section) {
  const timeline = el('div', {
    class: 'timeline',
    role: 'img',
    'aria-label': 'Scheduled events on a timeline',
  });
  const list = el('div');
  const type = el(
    'select',
    { name: 'type' },
    ['Reboot', 'Redeploy', 'Freeze', 'Preempt', 'Terminate'].map((t) => el('option', { value: t }, t)),
  );
  const notBefore = el('input', { value: '+5m', size: 10, name: 'notBefore' });
  const form = el(
    'form',
    { class: 'bar', 'aria-label': 'Add a scheduled event' },
    field('Type', type),
    field('Not before (+5m or ISO date)', notBefore),
    el('button', { type: 'submit', class: 'primary' }, 'Add event'),
  );
  section.append(form, timeline, list);
  let timer;

  const view = {
    async show() {
      clearTimeout(timer);
      const [{ events, incarnation }] = await Promise.all([api('GET', '/events'), syncClock()]);
      const now = clockNow();
      const span = (e) => {
        const start = Date.parse(e.startedAt ?? e.notBefore);
        const end = e.endsAt ? Date.parse(e.endsAt) : start + Math.max(60, e.durationInSeconds) * 1000;
        return [start, end];
      };
      const spans = events.map(span);
      const from = Math.min(now, ...spans.map((s) => s[0])) - 60_000;
      const to = Math.max(now + 10 * 60_000, ...spans.map((s) => s[1])) + 60_000;
      const x = (ms) => `${((ms - from) / (to - from)) * 100}%`;
      timeline.replaceChildren(
        el('span', { class: 'tl-axis', style: { left: '.3rem' } }, date(from)),
        el('span', { class: 'tl-axis', style: { right: '.3rem' } }, date(to)),
        el('div', { class: 'tl-now', style: { left: x(now) } }),
        ...events.map((e, i) =>
          el(
            'div',
            { class: 'tl-row' },
            el(
              'div',
              {
                class: `tl-bar ${e.status}`,
                style: {
                  left: x(spans[i][0]),
                  width: `${((spans[i][1] - spans[i][0]) / (to - from)) * 100}%`,
                },
                title: `${e.type} ${e.status} ${e.id}`,
              },
              `${e.type} · ${e.status}`,
            ),
          ),
        ),
      );
      list.replaceChildren(
        el('p', { class: 'muted' }, `Incarnation ${incarnation}; emulator time ${date(now)}`),
        events.length === 0
          ? el('p', { class: 'muted' }, 'No scheduled event.')
          : table(
              ['Id', 'Type', 'Status', 'Not before', 'Started', 'Ends', ''],
              events.map((e) => [
                el('span', { class: 'mono' }, e.id),
                e.type,
                el('span', { 'data-event-status': e.status }, e.status),
                `${e.notBefore} (${relative(Date.parse(e.notBefore), now)})`,
                e.startedAt ?? '',
                e.endsAt ?? '',
                el(
                  'span',
                  { class: 'bar' },
                  e.status === 'Scheduled'
                    ? el(
                        'button',
                        {
                          type: 'button',
                          'aria-label': `Approve event ${e.id}`,
                          onclick: () =>
                            act('Approve', async () => {
                              await api('POST', `/events/${e.id}/approve`);
                              await view.show();
                            }),
                        },
                        'Approve',
                      )
                    : '',
                  el(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Complete event ${e.id} (moves the clock to its end)`,
                      onclick: () => act('Complete', () => complete(e)),
                    },
                    'Complete',
                  ),
                  el(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Cancel event ${e.id}`,
                      onclick: () =>
                        act('Cancel', async () => {
                          await api('DELETE', `/events/${e.id}`);
                          await view.show();
                        }),
                    },
                    'Cancel',
                  ),
                ),
              ]),
            ),
      );
      // Statuses move with the clock: keep the view current while it is open.
      if (!section.hidden) timer = setTimeout(() => view.show().catch(() => {}), 2000);
    },
  };

  // An event ends when its time is up: approve it if still Scheduled, then move the clock past its end.
  async function complete(e) {
    const started = e.status === 'Started' ? e : await api('POST', `/events/${e.id}/approve`);
    const ends = started.endsAt ? Date.parse(started.endsAt) : clockNow();
    const by = Math.max(0, ends - clockNow()) + 1000;
    await api('POST', '/clock/advance', { by });
    await view.show();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act('Add event', async () => {
      await api('POST', '/events', { type: type.value, notBefore: notBefore.value });
      await view.show();
    });
  });
  return view;
}

// --- tabs ---------------------------------------------------------------------------------------

async function start() {
  const tabs = document.getElementById('tabs');
  const main = document.getElementById('panels');
  main.replaceChildren();
  // The server lists only the panels whose endpoint this emulator has (panels.ts `optional`).
  const entries = config.panels.map((panel) => {
    const tab = el('button', {
      type: 'button',
      role: 'tab',
      id: `tab-${panel.id}`,
      'aria-controls': `panel-${panel.id}`,
      'aria-selected': 'false',
      tabindex: -1,
      text: panel.title,
    });
    const section = el('section', {
      role: 'tabpanel',
      id: `panel-${panel.id}`,
      'aria-labelledby': tab.id,
      tabindex: 0,
      hidden: true,
    });
    tabs.append(tab);
    main.append(section);
    const view = views[panel.view](section, panel);
    return { panel, tab, section, view };
  });
  let refresh;
  function select(entry, focus) {
    for (const other of entries) {
      const on = other === entry;
      other.tab.setAttribute('aria-selected', on ? 'true' : 'false');
      other.tab.tabIndex = on ? 0 : -1;
      other.section.hidden = !on;
    }
    if (focus) entry.tab.focus();
    history.replaceState(null, '', `#${entry.panel.id}`);
    clearInterval(refresh);
    const load = () =>
      Promise.resolve()
        .then(() => entry.view.show())
        .catch((error) => say(`${entry.panel.title}: ${error.message}`, 'bad'));
    load();
    if (entry.panel.refreshMs) refresh = setInterval(load, entry.panel.refreshMs);
  }
  entries.forEach((entry, i) => {
    entry.tab.addEventListener('click', () => select(entry, false));
    entry.tab.addEventListener('keydown', (event) => {
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: entries.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      select(entries[(to + entries.length) % entries.length], true);
    });
  });
  const wanted = entries.find((e) => `#${e.panel.id}` === location.hash) ?? entries[0];
  select(wanted, false);
}

start().catch((error) => say(`dashboard: ${error.message}`, 'bad'));
