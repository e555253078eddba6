/**
 * The dashboard's panels, in the order of its tabs: one row each. A row names the control API
 * endpoint the panel reads and how the page renders it. An `optional` panel is listed only when the
 * control listener has a GET route at its `source` (the surface is built and enabled); otherwise its
 * tab is hidden, as for a 404. Adding a surface to the dashboard is adding a row here
 * (docs/dashboard.md#adding-a-panel):
 *
 * @example
 * ```ts
 * // The ARM world: GET /world on the control API answers {"resourceGroups":[...],"resources":[...],...}
 * { id: 'world', title: 'ARM world', source: '/world', view: 'tables', optional: true }
 * ```
 */
export interface DashboardPanel {
  /** Stable id: the tab's anchor (`/dashboard#world`) and element ids. */
  readonly id: string;
  /** Tab label. */
  readonly title: string;
  /** Control API path the panel reads (GET), relative to the listener. */
  readonly source: string;
  /**
   * How the page renders the answer: a built-in view of assets/dashboard/app.js, or `tables`: every
   * array in the JSON answer (at any depth) becomes a table whose columns are its items' members;
   * nested arrays and objects show as compact JSON; members named in `hidden` show as `(hidden)`.
   */
  readonly view: 'overview' | 'requests' | 'tokens' | 'events' | 'faults' | 'clock' | 'tables';
  /** Shown only when the control listener serves `GET source` (checked when the page is first served). */
  readonly optional?: boolean;
  /** `tables` view: member names (case-insensitive) whose values are never shown. */
  readonly hidden?: readonly string[];
  /** `tables` view: refresh period in milliseconds while the panel is open (default: on opening only). */
  readonly refreshMs?: number;
}

/** Member names whose values no `tables` panel shows, whatever the panel says. */
export const ALWAYS_HIDDEN = ['value', 'secret', 'password', 'clientSecret', 'privateKey', 'token'];

export const DASHBOARD_PANELS: readonly DashboardPanel[] = [
  { id: 'overview', title: 'Overview', source: '/dashboard/overview', view: 'overview' },
  { id: 'requests', title: 'Requests', source: '/logs', view: 'requests' },
  { id: 'tokens', title: 'Tokens', source: '/dashboard/tokens', view: 'tokens' },
  { id: 'events', title: 'Scheduled events', source: '/events', view: 'events' },
  { id: 'faults', title: 'Faults', source: '/faults', view: 'faults' },
  { id: 'clock', title: 'Clock', source: '/clock', view: 'clock' },
  // Surfaces that plug in: shown when their control API endpoint exists (control/world.ts, control/key-vault.ts).
  { id: 'world', title: 'ARM world', source: '/world', view: 'tables', optional: true, refreshMs: 5000 },
  {
    id: 'vaults',
    title: 'Key vaults',
    // Secret names, versions and attributes: the endpoint never returns a value (and `value` stays hidden).
    source: '/key-vault/vaults',
    view: 'tables',
    optional: true,
    hidden: ['value'],
    refreshMs: 5000,
  },
];
