import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ARGO_SCHEMAS_ENV,
  ArgoSchemaFiles,
  ArgoSchemasNotFoundError,
  argoSchemasDirectory,
  findRepositoryRoot,
} from './argo-schemas';
import { ArgoValidationError, ArgoValidator } from './argo-validator';
import { readArgoManifests, validateArgoManifestDirectory } from './validate-files';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPOSITORY = findRepositoryRoot(__dirname);
const TEMPLATE_FILE = join(REPOSITORY, 'argo-templates', 'docflow-transform.yaml');

function readTemplate(): Json {
  const [first] = readArgoManifests(TEMPLATE_FILE);
  if (!first?.manifest) throw new Error(`Cannot read ${TEMPLATE_FILE}: ${first?.error}`);
  // A JSON copy: YAML aliases (*container-security...) would otherwise share one object between templates.
  return JSON.parse(JSON.stringify(first.manifest)) as Json;
}

function templateNamed(manifest: Json, name: string): Json {
  const found = (manifest['spec']['templates'] as Json[]).find((t) => t['name'] === name);
  if (!found) throw new Error(`No template ${name}`);
  return found;
}

function indexOfTemplate(manifest: Json, name: string): number {
  return (manifest['spec']['templates'] as Json[]).findIndex((t) => t['name'] === name);
}

const minimalWorkflow = (): Json => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Workflow',
  metadata: { name: 'docflow-job-j1', labels: { 'app.kubernetes.io/part-of': 'docflow' } },
  spec: {
    workflowTemplateRef: { name: 'docflow-transform' },
    arguments: { parameters: [{ name: 'job-id', value: 'j1' }] },
    parallelism: 2,
  },
});

describe(ArgoValidator.name, () => {
  let sut: ArgoValidator;

  // Fails here, with ArgoSchemasNotFoundError naming the folder, when ../shared/argo is missing.
  beforeAll(() => {
    sut = ArgoValidator.forDirectory();
  });

  describe('argo-templates/docflow-transform.yaml', () => {
    it('passes schema.json', () => {
      expect(sut.checkSchemaJson('WorkflowTemplate', readTemplate())).toEqual([]);
    });

    it("passes the CRD's openAPIV3Schema and rules", () => {
      expect(sut.checkCrd('WorkflowTemplate', readTemplate())).toEqual([]);
    });

    it('passes the strict field check', () => {
      expect(sut.checkStrict('WorkflowTemplate', readTemplate())).toEqual([]);
    });

    it('is the only manifest in argo-templates/, and every one there is valid', () => {
      const reports = validateArgoManifestDirectory(join(REPOSITORY, 'argo-templates'), sut);
      expect(reports.map(({ kind, name, issues }) => ({ kind, name, issues }))).toEqual([
        { kind: 'WorkflowTemplate', name: 'docflow-transform', issues: [] },
      ]);
    });
  });

  describe('the strict check', () => {
    it('reports a misspelt retryStrategy that schema.json and the CRD let through', () => {
      const manifest = readTemplate();
      const transform = templateNamed(manifest, 'transform');
      transform['retryStategy'] = transform['retryStrategy'];
      delete transform['retryStrategy'];
      const at = `$.spec.templates[${indexOfTemplate(manifest, 'transform')}].retryStategy`;

      expect(sut.checkSchemaJson('WorkflowTemplate', manifest)).toEqual([]);
      expect(sut.checkCrd('WorkflowTemplate', manifest)).toEqual([]);
      expect(sut.checkStrict('WorkflowTemplate', manifest)).toEqual([
        {
          source: 'strict',
          path: at,
          message: expect.stringContaining('unknown field "retryStategy"'),
        },
      ]);
      expect(sut.checkStrict('WorkflowTemplate', manifest)[0].message).toContain(
        'did you mean "retryStrategy"?',
      );
    });

    it('walks into containers, lists and maps', () => {
      const manifest = readTemplate();
      const transform = templateNamed(manifest, 'transform');
      transform['container']['securityContext'] = { readOnlyRootFileSystem: true };
      transform['container']['env'][0]['valueFrom']['secretKeyRef']['keys'] = 'x';
      manifest['metadata']['labels']['any-label-is-fine'] = 'yes';
      const i = indexOfTemplate(manifest, 'transform');

      expect(sut.checkStrict('WorkflowTemplate', manifest).map((issue) => issue.path)).toEqual([
        `$.spec.templates[${i}].container.env[0].valueFrom.secretKeyRef.keys`,
        `$.spec.templates[${i}].container.securityContext.readOnlyRootFileSystem`,
      ]);
    });

    it('reports the singular `semaphore` that Argo v4 no longer has', () => {
      const manifest = readTemplate();
      templateNamed(manifest, 'transform')['synchronization'] = {
        semaphore: { configMapKeyRef: { name: 'docflow-semaphores', key: 'default' } },
      };
      expect(sut.checkStrict('WorkflowTemplate', manifest)).toEqual([
        expect.objectContaining({ message: expect.stringContaining('did you mean "semaphores"?') }),
      ]);
    });
  });

  describe('schema.json and the CRD', () => {
    it('disagree on integers in IntOrString fields: schema.json wants strings', () => {
      const manifest = readTemplate();
      templateNamed(manifest, 'transform')['retryStrategy']['limit'] = 5;
      const at = `$.spec.templates[${indexOfTemplate(manifest, 'transform')}].retryStrategy.limit`;

      expect(sut.checkSchemaJson('WorkflowTemplate', manifest)).toEqual([
        { source: 'schema.json', path: at, message: 'must be string' },
      ]);
      expect(sut.checkCrd('WorkflowTemplate', manifest)).toEqual([]);
    });

    it('both refuse a templated string where an integer belongs', () => {
      const manifest = readTemplate();
      manifest['spec']['parallelism'] = '{{workflow.parameters.parallelism}}';

      expect(sut.validate('WorkflowTemplate', manifest)).toEqual([
        { source: 'schema.json', path: '$.spec.parallelism', message: 'must be integer' },
        { source: 'crd', path: '$.spec.parallelism', message: 'must be integer' },
      ]);
    });

    it("applies the CRD's CEL rules that JSON Schema validators skip", () => {
      const manifest = readTemplate();
      templateNamed(manifest, 'plan')['script'] = { image: 'x', source: 'true' };
      const main = templateNamed(manifest, 'main');
      main['dag']['tasks'][1]['continueOn'] = { failed: true };
      main['activeDeadlineSeconds'] = '60';

      expect(
        sut.checkCrd('WorkflowTemplate', manifest).map(({ path, message }) => `${path}: ${message}`),
      ).toEqual([
        '$.spec.templates[0].activeDeadlineSeconds: activeDeadlineSeconds is only valid for leaf templates',
        "$.spec.templates[0].dag.tasks[1]: cannot use 'continueOn' when using 'depends'",
        `$.spec.templates[${indexOfTemplate(manifest, 'plan')}]: template must have at most one template type`,
      ]);
    });

    it('checks metadata as the API server does', () => {
      const manifest = readTemplate();
      manifest['metadata']['name'] = 'Docflow_Transform';
      manifest['metadata']['labels']['docflow.io/job-id'] = 'not a label value';

      expect(sut.checkCrd('WorkflowTemplate', manifest).map((issue) => issue.path)).toEqual([
        '$.metadata.name',
        "$.metadata.labels['docflow.io/job-id']",
      ]);
    });
  });

  describe('a Workflow', () => {
    it('passes when it only references the template', () => {
      expect(sut.validateWorkflow(minimalWorkflow())).toEqual([]);
    });

    it('fails without metadata, naming the path in each check', () => {
      const workflow = minimalWorkflow();
      delete workflow['metadata'];

      expect(sut.validateWorkflow(workflow)).toEqual([
        { source: 'schema.json', path: '$.metadata', message: "must have required property 'metadata'" },
        { source: 'crd', path: '$.metadata', message: "must have required property 'metadata'" },
        { source: 'crd', path: '$.metadata', message: 'metadata is required' },
      ]);
    });

    it('assertValid throws an error that lists every issue', () => {
      const workflow = minimalWorkflow();
      workflow['spec']['workflowTemplateRef']['nmae'] = 'x';

      expect(() => sut.assertValid('Workflow', workflow, 'Workflow docflow-job-j1')).toThrow(
        ArgoValidationError,
      );
      expect(() => sut.assertValid('Workflow', workflow, 'Workflow docflow-job-j1')).toThrow(
        /Workflow docflow-job-j1 is not a valid Argo Workflow:\n {2}\[strict\] \$\.spec\.workflowTemplateRef\.nmae: unknown field "nmae"/,
      );
    });
  });
});

describe(ArgoSchemaFiles.name, () => {
  it('fails at once, naming the folder, the missing files and the variable to set', () => {
    const empty = mkdtempSync(join(tmpdir(), 'argo-schemas-'));
    writeFileSync(join(empty, 'schema.json'), '{}');

    expect(() => new ArgoSchemaFiles(empty)).toThrow(ArgoSchemasNotFoundError);
    expect(() => new ArgoSchemaFiles(empty)).toThrow(
      `The Argo Workflows schemas are missing from ${empty} (argoproj.io_workflows.yaml, argoproj.io_workflowtemplates.yaml)`,
    );
    expect(() => new ArgoSchemaFiles(empty)).toThrow(ARGO_SCHEMAS_ENV);
  });
});

describe(argoSchemasDirectory.name, () => {
  it('is ../shared/argo beside the repository by default', () => {
    expect(argoSchemasDirectory({}, __dirname)).toBe(resolve(REPOSITORY, '..', 'shared', 'argo'));
  });

  it(`follows ${ARGO_SCHEMAS_ENV}`, () => {
    expect(argoSchemasDirectory({ [ARGO_SCHEMAS_ENV]: '/opt/argo-schemas' }, __dirname)).toBe(
      '/opt/argo-schemas',
    );
  });
});
