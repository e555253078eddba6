/**
 * What `npm run bench` compares, one line per scenario (see bench/harness.ts for the fields).
 * Each is run against azimds and against a bare node:http server replaying azimds's response.
 */
import { type Scenario, scenario } from './harness.js';

const V = '2025-04-07';
const ARM = encodeURIComponent('https://management.azure.com/');

export const scenarios: Scenario[] = [
  scenario('instance document', `/metadata/instance?api-version=${V}`, { headline: true }),
  scenario('leaf as text', `/metadata/instance/compute/vmId?api-version=${V}&format=text`),
  scenario('no Metadata header (400)', `/metadata/instance?api-version=${V}`, { headers: {}, status: 400 }),
  // Managed identity (issue 4): the cached token every SDK call after the first gets, and the SDKs' probe.
  scenario('MI token, cached', `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`, {
    target: 0.8,
  }),
  scenario('MI probe (400)', '/metadata/identity/oauth2/token', {
    headers: { Accept: 'application/json' },
    status: 400,
  }),
];
