// Nest's default console logger is noise in test output; tests assert on values, not on log lines.
const noop = () => undefined;
require('@nestjs/common').Logger.overrideLogger({
  log: noop,
  error: noop,
  warn: noop,
  debug: noop,
  verbose: noop,
  fatal: noop,
});
