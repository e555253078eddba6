/**
 * Where each listener binds (issue 17 B8): `--host 169.254.169.254` is the real VM's layout — IMDS on
 * the link-local address, every platform's token service on localhost as on Azure — and each platform's
 * host and port have their own flag (`--vm-extension-port 50343`, seed 004's extension setting).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../../src/cli/options.js';
import { PLATFORM_IDS, PLATFORMS } from '../../src/core/platforms/catalog.js';
import { platformHost, platformUrlFromConfig } from '../../src/core/platforms/environment.js';

/** Flags as commander parses `azimds start <args>`. */
function parse(args: string[]): ConfigFlags {
  const command = withConfigOptions(new Command('start').exitOverride());
  command.parse(args, { from: 'user' });
  return command.opts() as ConfigFlags;
}

describe('listener addresses', () => {
  test('--host 169.254.169.254 moves IMDS only: the platforms stay on loopback, as on a VM', () => {
    const config = configFromFlags(parse(['--host', '169.254.169.254', '--port', '80']));
    assert.equal(config.host, '169.254.169.254');
    assert.equal(config.imds.port, 80);
    for (const id of PLATFORM_IDS) assert.equal(platformHost(config, id), '127.0.0.1', id);
    assert.equal(platformUrlFromConfig(config, 'vmExtension'), 'http://127.0.0.1:50342');
    assert.equal(platformUrlFromConfig(config, 'arc'), 'http://127.0.0.1:40342');
  });

  test('another --host (0.0.0.0 in a container) applies to the platforms too', () => {
    const config = configFromFlags(parse(['--host', '0.0.0.0']));
    for (const id of PLATFORM_IDS) assert.equal(platformHost(config, id), '0.0.0.0', id);
  });

  test('each platform has a --<platform>-host and --<platform>-port flag', () => {
    const args: string[] = [];
    PLATFORM_IDS.forEach((id, i) => {
      args.push(
        `--${PLATFORMS[id].cliName}-host`,
        `127.0.0.${i + 2}`,
        `--${PLATFORMS[id].cliName}-port`,
        String(51000 + i),
      );
    });
    const config = configFromFlags(parse(args));
    PLATFORM_IDS.forEach((id, i) => {
      assert.equal(platformHost(config, id), `127.0.0.${i + 2}`, id);
      assert.equal(config.platforms[id].port, 51000 + i, id);
    });
  });

  test("seed 004's extension on port 50343: --vm-extension-port 50343", () => {
    const config = configFromFlags(parse(['--vm-extension-port', '50343']));
    assert.equal(config.platforms.vmExtension.port, 50343);
    assert.equal(platformUrlFromConfig(config, 'vmExtension'), 'http://127.0.0.1:50343');
  });

  test('a bad port flag is a config error naming the flag', () => {
    assert.throws(() => configFromFlags(parse(['--arc-port', 'eighty'])), /--arc-port|platforms\.arc\.port/);
  });
});
