// The native CLI, for checks that the page and the command line agree.

import { spawnSync } from 'node:child_process';
import { ROOT } from './harness.mjs';

/**
 * Runs `mastoplan ARGS` from the workspace (built by cargo if needed) and returns stdout.
 * Exit 1 (an error finding, for `check`) is an answer, not a failure; anything else throws.
 */
export function mastoplan(args) {
  const run = spawnSync('cargo', ['run', '-q', '-p', 'mastoplan-cli', '--', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`mastoplan ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  }
  return run.stdout;
}
