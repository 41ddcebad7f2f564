import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ArgoSchemaFiles, argoSchemasDirectory, type ArgoKind } from './argo-schemas';
import { celRuleViolations, objectMetaViolations } from './crd-rules';
import { pointerSegments, toJsonPath } from './json-path';
import { findUnknownFields } from './strict-fields';

/**
 * Where a finding comes from:
 * - `schema.json`: Argo's JSON Schema (Ajv, draft 2020-12);
 * - `crd`: the CRD's openAPIV3Schema, plus what the API server checks beyond it (its CEL rules, metadata);
 * - `strict`: docflow's own check that every field set is one the schema knows.
 */
export type ArgoValidationSource = 'schema.json' | 'crd' | 'strict';

export interface ArgoValidationIssue {
  source: ArgoValidationSource;
  /** A JSON path into the manifest, e.g. `$.spec.templates[2].retryStategy`. */
  path: string;
  message: string;
}

export class ArgoValidationError extends Error {
  constructor(
    readonly kind: ArgoKind,
    readonly issues: ArgoValidationIssue[],
    what: string = kind,
  ) {
    super(`${what} is not a valid Argo ${kind}:\n${formatArgoIssues(issues)}`);
    this.name = 'ArgoValidationError';
  }
}

export function formatArgoIssues(issues: readonly ArgoValidationIssue[]): string {
  return issues.map((issue) => `  [${issue.source}] ${issue.path}: ${issue.message}`).join('\n');
}

const DEFINITIONS: Record<ArgoKind, string> = {
  Workflow: 'io.argoproj.workflow.v1alpha1.Workflow',
  WorkflowTemplate: 'io.argoproj.workflow.v1alpha1.WorkflowTemplate',
};
const SCHEMA_JSON_ID = 'argo-schema.json';

/**
 * Validates Workflows and WorkflowTemplates against the Argo Workflows v4.1 schemas in `../shared/argo`
 * (or `$DOCFLOW_ARGO_SCHEMAS`). Compiling is the slow part (the Workflow CRD alone takes a second or two),
 * so validators are compiled on first use and shared per folder: use {@link ArgoValidator.forDirectory}.
 */
export class ArgoValidator {
  private static readonly byDirectory = new Map<string, ArgoValidator>();

  private schemaJsonAjv?: Ajv2020;
  private readonly schemaJsonValidators = new Map<ArgoKind, ValidateFunction>();
  private readonly crdValidators = new Map<ArgoKind, ValidateFunction>();

  constructor(readonly files: ArgoSchemaFiles) {}

  /** The shared validator of `directory` (default: `$DOCFLOW_ARGO_SCHEMAS` or `../shared/argo`). */
  static forDirectory(directory: string = argoSchemasDirectory()): ArgoValidator {
    let validator = ArgoValidator.byDirectory.get(directory);
    if (!validator) {
      validator = new ArgoValidator(new ArgoSchemaFiles(directory));
      ArgoValidator.byDirectory.set(directory, validator);
    }
    return validator;
  }

  /** Every check: schema.json, the CRD, and the strict field check. Empty when the manifest is valid. */
  validate(kind: ArgoKind, manifest: unknown): ArgoValidationIssue[] {
    return [
      ...this.checkSchemaJson(kind, manifest),
      ...this.checkCrd(kind, manifest),
      ...this.checkStrict(kind, manifest),
    ];
  }

  validateWorkflow(manifest: unknown): ArgoValidationIssue[] {
    return this.validate('Workflow', manifest);
  }

  validateWorkflowTemplate(manifest: unknown): ArgoValidationIssue[] {
    return this.validate('WorkflowTemplate', manifest);
  }

  /** Throws an {@link ArgoValidationError} listing every issue. */
  assertValid(kind: ArgoKind, manifest: unknown, what?: string): void {
    const issues = this.validate(kind, manifest);
    if (issues.length) throw new ArgoValidationError(kind, issues, what);
  }

  /** Against schema.json's definition of the kind (`io.argoproj.workflow.v1alpha1.<Kind>`). */
  checkSchemaJson(kind: ArgoKind, manifest: unknown): ArgoValidationIssue[] {
    let validate = this.schemaJsonValidators.get(kind);
    if (!validate) {
      if (!this.schemaJsonAjv) {
        this.schemaJsonAjv = newAjv();
        this.schemaJsonAjv.addSchema({ ...this.files.jsonSchema(), $id: SCHEMA_JSON_ID });
      }
      validate = this.schemaJsonAjv.getSchema(`${SCHEMA_JSON_ID}#/definitions/${DEFINITIONS[kind]}`);
      if (!validate) throw new Error(`schema.json has no definition ${DEFINITIONS[kind]}`);
      this.schemaJsonValidators.set(kind, validate);
    }
    return runAjv(validate, manifest, 'schema.json');
  }

  /**
   * Against the CRD's openAPIV3Schema, as the API server would (its `x-kubernetes-*` keywords are ignored
   * by Ajv; the CEL rules and the metadata checks the server adds are applied by hand).
   */
  checkCrd(kind: ArgoKind, manifest: unknown): ArgoValidationIssue[] {
    let validate = this.crdValidators.get(kind);
    if (!validate) {
      validate = newAjv().compile(this.files.crdSchema(kind));
      this.crdValidators.set(kind, validate);
    }
    const issues = runAjv(validate, manifest, 'crd');
    for (const violation of [...objectMetaViolations(manifest), ...celRuleViolations(manifest)])
      issues.push({ source: 'crd', ...violation });
    return issues;
  }

  /** Fields that schema.json does not know (typos the upstream schemas let through). */
  checkStrict(kind: ArgoKind, manifest: unknown): ArgoValidationIssue[] {
    return findUnknownFields(manifest, this.files.jsonSchema(), DEFINITIONS[kind]).map((unknown) => ({
      source: 'strict',
      ...unknown,
    }));
  }
}

function newAjv(): Ajv2020 {
  // strict: false, so the schemas' own extensions (x-kubernetes-*, nullable...) are ignored, not refused.
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addFormat('uint64', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  return ajv;
}

function runAjv(
  validate: ValidateFunction,
  manifest: unknown,
  source: ArgoValidationSource,
): ArgoValidationIssue[] {
  if (validate(manifest)) return [];
  return dedupe((validate.errors ?? []).map((error) => toIssue(error, manifest, source)));
}

function toIssue(error: ErrorObject, manifest: unknown, source: ArgoValidationSource): ArgoValidationIssue {
  const segments = pointerSegments(error.instancePath, manifest);
  if (error.keyword === 'required') segments.push(String(error.params['missingProperty']));
  const detail =
    error.keyword === 'const' || error.keyword === 'enum'
      ? ` (${JSON.stringify(error.params['allowedValue'] ?? error.params['allowedValues'])})`
      : '';
  return { source, path: toJsonPath(segments), message: `${error.message ?? error.keyword}${detail}` };
}

function dedupe(issues: ArgoValidationIssue[]): ArgoValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
