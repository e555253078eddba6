import type { Command } from 'commander';
import { localCaOf } from '../../core/tls/local-ca.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';

/**
 * `azimds ca`: the local CA behind the proxy's certificates (docs/proxy.md). Prints its file, the
 * combined bundle's file (system roots + the CA, written now) and the CA's PEM; `--pem` the PEM alone
 * (`azimds ca --pem > ca.crt`). Creates the CA in the data directory if it does not exist yet.
 */
export function registerCaCommand(program: Command, out: NodeJS.WritableStream): void {
  withConfigOptions(
    program
      .command('ca')
      .description(
        "print the local CA that signs the proxy's certificates for Azure's host names (its file and PEM) and write the combined bundle (system roots + the CA) for clients whose CA variable replaces the system store",
      ),
  )
    .option('--pem', 'print only the CA certificate (PEM)')
    .action((flags: ConfigFlags & { pem?: boolean }) => {
      const ca = localCaOf(configFromFlags(flags));
      const certFile = ca.certFile();
      const bundleFile = ca.bundleFile();
      if (flags.pem) {
        out.write(ca.certPem());
        return;
      }
      out.write(
        [
          `CA certificate  ${certFile}   (NODE_EXTRA_CA_CERTS, curl --cacert; trust it in a browser or OS store if you wish)`,
          `CA bundle       ${bundleFile}   (system roots + the CA: REQUESTS_CA_BUNDLE, SSL_CERT_FILE, CURL_CA_BUNDLE)`,
          '',
          ca.certPem(),
        ].join('\n'),
      );
    });
}
