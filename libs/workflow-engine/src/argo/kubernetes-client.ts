import type * as k8s from '@kubernetes/client-node';

export type KubernetesClientModule = typeof k8s;

// A real `import()`: swc compiles `await import('x')` into `require('x')` for CommonJS, and
// @kubernetes/client-node 1.x is an ES module only. Node >= 20.19 can `require()` it, but jest on Node 20
// cannot (jest supports require(esm) from Node 24.9); a genuine dynamic import works in both, jest loading it
// through its ESM support (`--experimental-vm-modules`, which the repository's test scripts pass).
const importModule = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

let loading: Promise<KubernetesClientModule> | undefined;

/** @kubernetes/client-node, loaded once. */
export function loadKubernetesClient(): Promise<KubernetesClientModule> {
  loading ??= importModule('@kubernetes/client-node') as Promise<KubernetesClientModule>;
  return loading;
}
