#!/usr/bin/env node
// First: refuses an older Node.js in one sentence before any other module loads.
import '../node-version.js';
import module from 'node:module';

// Reuse compiled code across runs (Node >= 22.1; kept in the OS temp directory): every CLI start is faster.
module.enableCompileCache?.();

// `azimds config schema | head` closes the pipe early: that ends the command, it is not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// Imported after the compile cache is on, so that the program's modules are cached too.
const { run } = await import('./program.js');
process.exitCode = await run(process.argv);
