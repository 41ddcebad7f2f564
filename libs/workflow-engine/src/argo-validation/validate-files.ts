import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ARGO_KINDS, type ArgoKind } from './argo-schemas';
import type { ArgoValidationIssue, ArgoValidator } from './argo-validator';
import { isObject } from './json-path';

export interface ArgoDocumentReport {
  file: string;
  /** 0-based index of the YAML document in the file. */
  document: number;
  kind?: string;
  name?: string;
  issues: ArgoValidationIssue[];
}

/** The manifests of a YAML file (several documents allowed), parsed with anchors and aliases resolved. */
export function readArgoManifests(file: string): { document: number; manifest?: unknown; error?: string }[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc, document) =>
    doc.errors.length
      ? { document, error: doc.errors.map((e) => e.message).join('; ') }
      : { document, manifest: doc.toJS() },
  );
}

/** Validates every document of `file`; each must be a Workflow or a WorkflowTemplate. */
export function validateArgoManifestFile(file: string, validator: ArgoValidator): ArgoDocumentReport[] {
  return readArgoManifests(file).map(({ document, manifest, error }) => {
    if (error)
      return { file, document, issues: [{ source: 'schema.json', path: '$', message: `YAML: ${error}` }] };
    const kind = isObject(manifest) ? manifest['kind'] : undefined;
    const metadata = isObject(manifest) ? manifest['metadata'] : undefined;
    const name = isObject(metadata) && typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
    if (!ARGO_KINDS.includes(kind as ArgoKind))
      return {
        file,
        document,
        name,
        kind: typeof kind === 'string' ? kind : undefined,
        issues: [
          { source: 'schema.json', path: '$.kind', message: `expected one of ${ARGO_KINDS.join(', ')}` },
        ],
      };
    return {
      file,
      document,
      kind: kind as ArgoKind,
      name,
      issues: validator.validate(kind as ArgoKind, manifest),
    };
  });
}

/** Validates every `*.yaml` / `*.yml` file of `directory` (not recursive). */
export function validateArgoManifestDirectory(
  directory: string,
  validator: ArgoValidator,
): ArgoDocumentReport[] {
  return readdirSync(directory)
    .filter((entry) => /\.ya?ml$/.test(entry))
    .sort()
    .flatMap((entry) => validateArgoManifestFile(join(directory, entry), validator));
}
