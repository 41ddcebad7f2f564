#!/usr/bin/env node
// `npm start`: the whole docflow platform on this machine, in the foreground. Ctrl-C stops what it started.
'use strict';
const path = require('node:path');
const { startLocalPlatform } = require('@docflow/local-platform');

async function main() {
  const root = path.resolve(__dirname, '../..');
  // Handlers first: a Ctrl-C while it starts stops what was started so far.
  const interrupted = new AbortController();
  let platform;
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    if (!platform) {
      console.log(`\n${signal}: stopping what was started so far`);
      interrupted.abort();
      return;
    }
    console.log(`\n${signal}: stopping ${platform.started.join(', ')} and the services`);
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  platform = await startLocalPlatform({ root, log: (line) => console.log(line), signal: interrupted.signal });
  console.log('');
  console.log('docflow is running');
  console.log(
    `  public API    ${platform.publicUrl}   (health: ${platform.publicUrl.replace('/api/v1', '/health/ready')})`,
  );
  console.log(`  private API   ${platform.privateUrl}`);
  console.log(`  object store  ${platform.s3Endpoint}`);
  console.log(`  started here  ${platform.started.join(', ')}`);
  console.log('Press Ctrl-C to stop.');
  if (stopping) return;
  const reason = await platform.crashed;
  console.error(`docflow stopped: ${reason}`);
  await platform.stop();
  process.exit(1);
}

main().catch((error) => {
  console.error(`docflow could not start: ${error.message}`);
  process.exit(error.message === 'start-up interrupted' ? 130 : 1);
});
