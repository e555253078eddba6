/**
 * Regenerates the dashboard screenshots of docs/images/ (shown in the README and docs/dashboard.md):
 * `node --import tsx test/browser/screenshots.ts`. Starts an emulator with a user-assigned identity,
 * makes a few token and metadata requests, schedules events and adds a fault, then captures each main
 * view in headless Chromium. Also prints the page's first paint (median of 5 fresh loads).
 */
import { mkdirSync } from 'node:fs';
import { startEmulator } from '../../src/server/emulator.js';
import { launchBrowser } from '../support/browser.js';

const OUT = new URL('../../docs/images/', import.meta.url);
mkdirSync(OUT, { recursive: true });

const emu = await startEmulator({ identity: { userAssigned: [{ name: 'id-orders-api' }] } });
const browser = await launchBrowser();
try {
  const imds = emu.urls.imds as string;
  const headers = { Metadata: 'true' };
  const clientId = emu.state.identities.all()[1]?.clientId as string;
  for (const resource of [
    'https://management.azure.com/',
    'https://vault.azure.net',
    'https://storage.azure.com/',
  ]) {
    await fetch(`${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}`, {
      headers,
    });
  }
  await fetch(
    `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=${clientId}`,
    { headers },
  );
  await fetch(`${imds}/metadata/instance?api-version=2021-02-01`, { headers });
  await fetch(`${imds}/metadata/instance?api-version=2021-02-01`); // 400: no Metadata header
  emu.state.scheduledEvents.add({ type: 'Freeze', notBefore: '+3m' } as never);
  emu.state.scheduledEvents.add({ type: 'Reboot', notBefore: '+8m' } as never);
  emu.faults.add({ id: 'throttle-tokens', path: '/metadata/identity/oauth2/token', status: 429, times: 2 });
  await fetch(
    `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`,
    {
      headers,
    },
  );
  await fetch(`${imds}/metadata/scheduledevents?api-version=2020-07-01`, { headers });

  const page = await browser.context.newPage();
  const paints: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(`${emu.urls.control}/dashboard?load=${i}#overview`);
    await page.waitForSelector('[role=tab][aria-selected=true]');
    paints.push(
      await page.evaluate<number>(
        "Math.round(performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint').startTime)",
      ),
    );
  }
  paints.sort((a, b) => a - b);
  process.stdout.write(`first contentful paint, 5 loads: ${paints.join(', ')} ms (median ${paints[2]} ms)\n`);

  const shot = (name: string) => page.screenshot({ path: new URL(`dashboard-${name}.png`, OUT).pathname });
  await page.getByRole('heading', { name: 'Managed identities' }).waitFor();
  await shot('overview');
  await page.getByRole('tab', { name: 'Requests' }).click();
  const token = page.locator('.vrow[data-seq="2"]');
  await token.click();
  await page.locator('.detail .token').waitFor();
  await page.locator('.detail .token').scrollIntoViewIfNeeded();
  await shot('requests');
  await page.getByRole('tab', { name: 'Tokens' }).click();
  await page.locator('#panel-tokens details').first().click();
  await shot('tokens');
  await page.getByRole('tab', { name: 'Scheduled events' }).click();
  await page.locator('.tl-bar').first().waitFor();
  await shot('events');
  await page.getByRole('tab', { name: 'Faults' }).click();
  await page.getByRole('cell', { name: 'throttle-tokens', exact: true }).waitFor();
  await shot('faults');
} finally {
  await browser.close();
  await emu.close();
}
