/**
 * The Node.js floor, checked before anything else of azimds loads: imported first by the library entry
 * (src/index.ts) and by the CLI (src/cli/main.ts), and without imports of its own, so that on an older
 * Node the one thing a user sees is a sentence naming the version needed — not a stack trace from
 * whichever module first used a newer API. Exits the process with status 1 there: nothing of azimds can
 * run on it.
 *
 * The floor is package.json's `engines.node` (a test keeps the two equal): Node 22, the oldest release
 * line still maintained, which the dependencies also declare (fastify's light-my-request → cookie 2).
 * azimds itself needs no API newer than 22.0 (`tls.getCACertificates`, 22.15, is used when present).
 */
export const REQUIRED_NODE_MAJOR = 22;

const major = Number.parseInt(process.versions.node, 10);
if (!(major >= REQUIRED_NODE_MAJOR)) {
  process.stderr.write(
    `azimds needs Node.js ${REQUIRED_NODE_MAJOR} or later; this is Node.js ${process.version} (in a clone, \`npx azimds\` and \`npm start\` run it on the Node of the \`node\` dev dependency).\n`,
  );
  process.exit(1);
}
