#!/usr/bin/env node
// `npm start`: the whole docflow platform on this machine, in the foreground. Ctrl-C stops what it started.
'use strict';
const path = require('node:path');
const { startLocalPlatform } = require('@docflow/local-platform');

async function main() {
  const root = path.resolve(__dirname, '../..');
  const platform = await startLocalPlatform({ root, log: (line) => console.log(line) });
  console.log('');
  console.log('docflow is running');
  console.log(
    `  public API    ${platform.publicUrl}   (health: ${platform.publicUrl.replace('/api/v1', '/health/ready')})`,
  );
  console.log(`  private API   ${platform.privateUrl}`);
  console.log(`  object store  ${platform.s3Endpoint}`);
  console.log(`  started here  ${platform.started.join(', ')}`);
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping ${platform.started.join(', ')} and the services`);
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  const reason = await platform.crashed;
  console.error(`docflow stopped: ${reason}`);
  await platform.stop();
  process.exit(1);
}

main().catch((error) => {
  console.error(`docflow could not start: ${error.message}`);
  process.exit(1);
});
