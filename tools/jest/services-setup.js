// Integration and end-to-end tests use the real PostgreSQL and NATS. Fail at once, naming what is missing,
// rather than letting every test time out. (`.ci/run` starts them when the machine has them stopped.)
const net = require('node:net');

function answers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

module.exports = async function servicesSetup() {
  const pg = new URL(
    process.env.TEST_DATABASE_URL ||
      process.env.DATABASE_URL ||
      'postgres://postgres@127.0.0.1:5432/postgres',
  );
  const nats = new URL((process.env.NATS_URL || 'nats://127.0.0.1:4222').replace(/^nats:/, 'http:'));
  const missing = [];
  if (!(await answers(pg.hostname, Number(pg.port || 5432)))) missing.push(`PostgreSQL at ${pg.host}`);
  if (!(await answers(nats.hostname, Number(nats.port || 4222)))) missing.push(`NATS at ${nats.host}`);
  if (missing.length) {
    throw new Error(
      `Integration tests need ${missing.join(' and ')}. Start them (see README, "Running the tests").`,
    );
  }
};
