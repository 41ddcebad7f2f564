#!/usr/bin/env node
// The gateway exactly as `apps/gateway/dist/main.js` runs it, with its authentication guard admitting every request
// as the benchmark's user: the baseline `auth.js` compares the real gateway with. The switch lives here, in the
// benchmark, not in the gateway: production code has no way to turn the guard off.
//
// BENCH_PRINCIPAL_USER_ID: the user id the guard puts on the request (the route's `user_id`, so every later check
// passes as it does for the real token).
'use strict';
require('reflect-metadata');
const path = require('node:path');

const dist = (file) => require(path.join(__dirname, '../../apps/gateway/dist', file));
const { AuthenticationGuard } = dist('auth/authentication.guard.js');

const userId = process.env.BENCH_PRINCIPAL_USER_ID;
if (!userId) throw new Error('BENCH_PRINCIPAL_USER_ID is required');
AuthenticationGuard.prototype.canActivate = async function canActivate(context) {
  context.switchToHttp().getRequest().principal = { kind: 'user', userId };
  return true;
};

dist('main.js');
