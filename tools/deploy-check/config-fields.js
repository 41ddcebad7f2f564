// The environment names a docflow program reads: the field names of its zod config schema
// (apps/<app>/src/config.ts), following `...s3ConfigFields` into libs/storage.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

function configFields(app, root) {
  const file = path.join(root, 'apps', app, 'src', 'config.ts');
  if (!existsSync(file)) return undefined;
  let source = readFileSync(file, 'utf8');
  if (source.includes('...s3ConfigFields')) {
    source += readFileSync(path.join(root, 'libs', 'storage', 'src', 'storage-config.ts'), 'utf8');
  }
  return new Set([...source.matchAll(/^\s+([A-Z][A-Z0-9_]+)\s*:/gm)].map((m) => m[1]));
}

module.exports = { configFields };
