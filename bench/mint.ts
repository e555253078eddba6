/**
 * First-mint timing for `npm run bench` (issue 4's target: a first mint under 2 ms): runs
 * bench/servers/mint.ts in fresh processes and summarizes. See docs/performance.md.
 */
import { fork } from 'node:child_process';
import { median } from './harness.js';

export interface MintFigures {
  /** The first token request of a fresh process, end to end over HTTP; median over processes (ms). */
  coldMs: number;
  coldMaxMs: number;
  /** Later first mints (a resource not asked before), end to end over HTTP; median (ms). */
  mintMs: number;
  /** Cached answers for the same pairs, end to end over HTTP; median (ms). */
  cachedMs: number;
  /** `LocalIssuer.mint()` alone (claims and one RS256 signature); median (ms). */
  coreMs: number;
}

interface ChildFigures {
  coldMs: number;
  mintMs: number[];
  cachedMs: number[];
  coreMs: number[];
}

export async function measureFirstMint(processes = 5, repeats = 200): Promise<MintFigures> {
  const runs: ChildFigures[] = [];
  for (let i = 0; i < processes; i++) {
    const child = fork(new URL('./servers/mint.ts', import.meta.url), [String(repeats)], {
      execArgv: [],
      stdio: 'inherit',
    });
    runs.push(
      await new Promise<ChildFigures>((resolve, reject) => {
        child.on('message', (m: { type?: string }) => {
          if (m.type === 'mint') resolve(m as unknown as ChildFigures);
        });
        child.once('exit', (code) => code !== 0 && reject(new Error(`mint child exited ${code}`)));
      }),
    );
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(0)));
  }
  return {
    coldMs: median(runs.map((r) => r.coldMs)),
    coldMaxMs: Math.max(...runs.map((r) => r.coldMs)),
    mintMs: median(runs.flatMap((r) => r.mintMs)),
    cachedMs: median(runs.flatMap((r) => r.cachedMs)),
    coreMs: median(runs.flatMap((r) => r.coreMs)),
  };
}
