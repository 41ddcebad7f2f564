import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** The Argo kinds docflow writes. */
export const ARGO_KINDS = ['Workflow', 'WorkflowTemplate'] as const;
export type ArgoKind = (typeof ARGO_KINDS)[number];

/** The files of `../shared/argo` (Argo Workflows v4.1, copied unchanged from argoproj/argo-workflows). */
export const ARGO_SCHEMA_FILES = {
  jsonSchema: 'schema.json',
  crds: {
    Workflow: 'argoproj.io_workflows.yaml',
    WorkflowTemplate: 'argoproj.io_workflowtemplates.yaml',
  },
} as const satisfies { jsonSchema: string; crds: Record<ArgoKind, string> };

/** The environment variable that points at the folder holding the files above. */
export const ARGO_SCHEMAS_ENV = 'DOCFLOW_ARGO_SCHEMAS';

export type JsonSchema = { [keyword: string]: unknown };

export class ArgoSchemasNotFoundError extends Error {
  constructor(
    readonly directory: string,
    readonly missing: string[],
  ) {
    super(
      `The Argo Workflows schemas are missing from ${directory} (${missing.join(', ')}). ` +
        `They are the v4.1 data files of argoproj/argo-workflows (see ../shared/argo/SOURCE.md): put them in ` +
        `../shared/argo beside the repository, or set ${ARGO_SCHEMAS_ENV} to the folder that holds them.`,
    );
    this.name = 'ArgoSchemasNotFoundError';
  }
}

/** The repository root: the nearest folder above `from` with an nx.json (works from src/ and dist/). */
export function findRepositoryRoot(from: string = __dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No nx.json above ${from}: cannot find the repository root.`);
  }
}

/** `$DOCFLOW_ARGO_SCHEMAS`, or `../shared/argo` relative to the repository root. */
export function argoSchemasDirectory(env: NodeJS.ProcessEnv = process.env, from: string = __dirname): string {
  const configured = env[ARGO_SCHEMAS_ENV]?.trim();
  if (configured) return resolve(configured);
  return resolve(findRepositoryRoot(from), '..', 'shared', 'argo');
}

/**
 * Reads the files lazily (each CRD is ~2.8 MB of YAML) but checks at once that all of them are there, so a
 * missing folder fails with one clear message instead of a parse error later.
 */
export class ArgoSchemaFiles {
  private jsonSchemaCache?: JsonSchema;
  private readonly crdCache = new Map<ArgoKind, JsonSchema>();

  constructor(readonly directory: string) {
    const files = [ARGO_SCHEMA_FILES.jsonSchema, ...Object.values(ARGO_SCHEMA_FILES.crds)];
    const missing = files.filter((file) => !existsSync(join(directory, file)));
    if (missing.length) throw new ArgoSchemasNotFoundError(directory, missing);
  }

  /** Argo's JSON Schema (draft 2020-12) with its `definitions`. */
  jsonSchema(): JsonSchema {
    this.jsonSchemaCache ??= JSON.parse(
      readFileSync(join(this.directory, ARGO_SCHEMA_FILES.jsonSchema), 'utf8'),
    ) as JsonSchema;
    return this.jsonSchemaCache;
  }

  /** The `openAPIV3Schema` of the kind's CRD: what the API server accepts. */
  crdSchema(kind: ArgoKind): JsonSchema {
    let schema = this.crdCache.get(kind);
    if (!schema) {
      const file = ARGO_SCHEMA_FILES.crds[kind];
      const crd = parseYaml(readFileSync(join(this.directory, file), 'utf8')) as {
        spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: JsonSchema } }[] };
      };
      const version = crd.spec?.versions?.find((v) => v.name === 'v1alpha1');
      schema = version?.schema?.openAPIV3Schema;
      if (!schema) throw new Error(`${file} has no v1alpha1 openAPIV3Schema`);
      this.crdCache.set(kind, schema);
    }
    return schema;
  }
}
