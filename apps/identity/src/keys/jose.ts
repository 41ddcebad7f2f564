// jose 6 is published as ES modules only. A real `import()`: swc turns `await import('x')` into `require('x')`
// for CommonJS, which jest's module system cannot do for an ES module.
// The source is made unique: V8 reuses a function compiled from the same source together with the module context of
// its first compilation, so under jest a later test file would import through an earlier one's torn-down environment.
const importModule = new Function(
  'specifier',
  `return import(specifier); // ${__filename} ${process.hrtime.bigint()}`,
) as (specifier: string) => Promise<typeof import('jose')>;

let loaded: Promise<typeof import('jose')> | undefined;

export function loadJose(): Promise<typeof import('jose')> {
  loaded ??= importModule('jose');
  return loaded;
}
