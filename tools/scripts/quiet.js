#!/usr/bin/env node
// Runs a command and shows its output only when it fails: `npm start`, `npm test` and `npm run demo`
// build first, and a successful build has nothing to say.
'use strict';
const { spawnSync } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
const out = spawnSync(command, args, {
  encoding: 'utf8',
  shell: false,
  env: { ...process.env, NX_TUI: 'false' },
});
if (out.error) {
  console.error(`could not run ${command}: ${out.error.message}`);
  process.exit(1);
}
if (out.status !== 0) {
  process.stdout.write(out.stdout ?? '');
  process.stderr.write(out.stderr ?? '');
  process.exit(out.status ?? 1);
}
