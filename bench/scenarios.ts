/**
 * What `npm run bench` compares: the table below, one entry per scenario (fields: bench/harness.ts).
 * Each is run against azimds and against a bare node:http server replaying azimds's response (a bare
 * node:https one with azimds's certificate for the https surfaces, ARM and Key Vault), under every
 * load of the run (node closed loop at 10 connections, wrk at 32 and 64); `target` is the req/s ratio
 * to reach at 32 connections (issue 16); none: reported only.
 */
import { type Scenario, scenario } from './harness.js';

const V = '2025-04-07';
const ARM = encodeURIComponent('https://management.azure.com/');
/** A fixed platform secret, so the load generator can send it (platforms generate one otherwise). */
const SECRET = 'azimds-bench-secret';

export const scenarios: Scenario[] = [
  // IMDS metadata: the instance document every SDK and agent reads.
  scenario('instance document', `/metadata/instance?api-version=${V}`, { headline: true, target: 0.95 }),
  scenario('leaf as text', `/metadata/instance/compute/vmId?api-version=${V}&format=text`, { target: 0.9 }),
  scenario('versions', '/metadata/versions', { target: 0.9 }),
  scenario('no Metadata header (400)', `/metadata/instance?api-version=${V}`, {
    headers: {},
    status: 400,
    target: 0.9,
  }),
  scenario('scheduled events', '/metadata/scheduledevents?api-version=2020-07-01', { target: 0.9 }),
  // Managed identity on IMDS (issue 4): the cached token every SDK call after the first gets, and the SDKs' probe.
  scenario('MI token, cached', `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`, {
    headline: true,
    target: 0.95,
  }),
  scenario('MI probe (400)', '/metadata/identity/oauth2/token', {
    headers: { Accept: 'application/json' },
    status: 400,
    target: 0.9,
  }),
  // Platform token endpoints (cached tokens).
  scenario('App Service token', `/msi/token?api-version=2019-08-01&resource=${ARM}`, {
    surface: 'appService',
    headers: { 'X-IDENTITY-HEADER': SECRET },
    options: { platforms: { appService: { enabled: true, port: 0, secret: SECRET } } },
    target: 0.9,
  }),
  scenario('VM extension token', `/oauth2/token?resource=${ARM}`, {
    surface: 'vmExtension',
    options: { platforms: { vmExtension: { enabled: true, port: 0 } } },
    target: 0.9,
  }),
  // ARM and Key Vault on their direct https endpoints (local CA), with a managed-identity token of
  // the zero-config VM (Reader on its resource group; the sample secret is its to read). Report only.
  scenario('ARM subscriptions', '/subscriptions?api-version=2022-12-01', {
    surface: 'arm',
    headers: {},
    token: 'https://management.azure.com/',
    options: { arm: { port: 0 } },
  }),
  scenario('Key Vault secret', '/secrets/sample-secret?api-version=7.4', {
    surface: 'key-vault',
    headers: {},
    token: 'https://vault.azure.net',
    options: { keyVault: { port: 0 } },
  }),
];
