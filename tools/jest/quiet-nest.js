// Nest's default console logger is noise in test output; tests assert on values, not on log lines.
require('@nestjs/common').Logger.overrideLogger(false);
