import { isObject, toJsonPath, type PathSegment } from './json-path';

export interface RuleViolation {
  path: string;
  message: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A DNS-1123 label (names of most Kubernetes objects that become part of other names): ≤ 63 characters. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** A DNS-1123 subdomain (object names such as Secrets and Workflows): ≤ 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** What the API server checks in `metadata` itself (the CRD's schema leaves it as a plain object). */
export function objectMetaViolations(manifest: unknown): RuleViolation[] {
  const found: RuleViolation[] = [];
  const metadata = isObject(manifest) ? manifest['metadata'] : undefined;
  if (!isObject(metadata)) return [{ path: '$.metadata', message: 'metadata is required' }];
  const { name, generateName, labels } = metadata;
  if (name === undefined && generateName === undefined)
    found.push({ path: '$.metadata.name', message: 'name or generateName is required' });
  if (name !== undefined && (typeof name !== 'string' || !isDnsSubdomain(name)))
    found.push({
      path: '$.metadata.name',
      message: `${JSON.stringify(name)} is not a DNS-1123 subdomain (lower-case alphanumerics, '-', '.')`,
    });
  if (labels !== undefined) {
    if (!isObject(labels)) found.push({ path: '$.metadata.labels', message: 'labels must be a map' });
    else
      for (const [key, value] of Object.entries(labels)) {
        const path = toJsonPath(['metadata', 'labels', key]);
        if (!isLabelKey(key))
          found.push({ path, message: `${JSON.stringify(key)} is not a valid label key` });
        if (typeof value !== 'string' || !isLabelValue(value))
          found.push({ path, message: `${JSON.stringify(value)} is not a valid label value` });
      }
  }
  return found;
}

const TEMPLATE_TYPES = [
  'container',
  'script',
  'dag',
  'steps',
  'resource',
  'suspend',
  'containerSet',
  'data',
  'http',
  'plugin',
] as const;
const ARTIFACT_LOCATIONS = [
  's3',
  'git',
  'http',
  'artifactory',
  'hdfs',
  'raw',
  'oss',
  'gcs',
  'azure',
  'plugin',
];

/**
 * The CRD's `x-kubernetes-validations` (CEL rules the API server evaluates and JSON Schema validators skip),
 * re-implemented for the parts of a Workflow(Template) spec docflow uses. Messages are the CRD's own.
 */
export function celRuleViolations(manifest: unknown): RuleViolation[] {
  const found: RuleViolation[] = [];
  const spec = isObject(manifest) ? manifest['spec'] : undefined;
  if (!isObject(spec)) return found;
  const at = (path: PathSegment[], message: string) => found.push({ path: toJsonPath(path), message });

  const artifacts = isObject(spec['arguments']) ? spec['arguments']['artifacts'] : undefined;
  if (Array.isArray(artifacts))
    artifacts.forEach((artifact, i) => {
      if (isObject(artifact) && ARTIFACT_LOCATIONS.filter((key) => key in artifact).length > 1)
        at(['spec', 'arguments', 'artifacts', i], 'at most one artifact location can be specified');
    });

  const templates = spec['templates'];
  if (!Array.isArray(templates)) return found;
  templates.forEach((template, i) => {
    if (!isObject(template)) return;
    const path = ['spec', 'templates', i];
    const hasSteps = 'steps' in template || 'dag' in template;
    if (TEMPLATE_TYPES.filter((type) => type in template).length > 1)
      at(path, 'template must have at most one template type');
    if (hasSteps && typeof template['timeout'] === 'string' && template['timeout'] !== '')
      at([...path, 'timeout'], 'timeout cannot be applied to steps or dag templates');
    if (hasSteps && 'activeDeadlineSeconds' in template)
      at([...path, 'activeDeadlineSeconds'], 'activeDeadlineSeconds is only valid for leaf templates');
    const tasks = isObject(template['dag']) ? template['dag']['tasks'] : undefined;
    if (!Array.isArray(tasks)) return;
    tasks.forEach((task, j) => {
      if (!isObject(task)) return;
      const taskPath = [...path, 'dag', 'tasks', j];
      const depends = 'depends' in task;
      if (depends && 'dependencies' in task) at(taskPath, "cannot use both 'depends' and 'dependencies'");
      if (depends && 'continueOn' in task) at(taskPath, "cannot use 'continueOn' when using 'depends'");
      if ((depends || 'dependencies' in task) && /^[0-9]/.test(String(task['name'])))
        at(taskPath, "task name cannot begin with a digit when using 'depends' or 'dependencies'");
    });
  });
  return found;
}
