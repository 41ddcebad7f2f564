// jose 6 is published as ES modules only. A real `import()`: swc turns `await import('x')` into `require('x')`
// for CommonJS, which jest's module system cannot do for an ES module.
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<typeof import('jose')>;

let loaded: Promise<typeof import('jose')> | undefined;

export function loadJose(): Promise<typeof import('jose')> {
  loaded ??= importModule('jose');
  return loaded;
}
