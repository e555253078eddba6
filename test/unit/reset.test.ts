import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resetState } from '../../src/core/reset.js';
import { createState, libraryConfig } from '../../src/server/emulator.js';

test('reset puts back the configured load balancer after it was changed at run time', () => {
  const state = createState(
    libraryConfig({
      loadBalancer: {
        publicIpAddresses: [{ frontendIpAddress: '20.60.1.10', privateIpAddress: '10.0.0.4' }],
        inboundRules: [],
        outboundRules: [],
      },
    }),
  );
  const configured = state.loadBalancer.document();
  assert.ok(configured, 'configured load balancer');
  state.loadBalancer.replace(undefined);
  assert.equal(state.loadBalancer.document(), undefined);
  resetState(state);
  assert.deepEqual(state.loadBalancer.document(), configured);
});
