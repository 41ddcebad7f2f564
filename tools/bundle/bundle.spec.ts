// What a bundle lists: the packages the compiled code loads from its entry points, through its workspace
// libraries, plus the ones declared as loaded by name; never a devDependency.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

interface Project {
  name: string;
  root: string;
  manifest: Record<string, unknown>;
}
interface Collected {
  libraries: string[];
  packages: Map<string, Set<string>>;
}
interface BundleTool {
  workspacePackages(root: string): Map<string, Project>;
  collectDependencies(projectRoot: string, root: string): Collected;
  bundleManifest(
    project: Project,
    collected: Collected,
    root: string,
  ): { dependencies: Record<string, string> };
  packageNameOf(specifier: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sut = require('./bundle.js') as BundleTool;

describe('tools/bundle/bundle.js', () => {
  let root: string;
  const write = (file: string, content: unknown) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), typeof content === 'string' ? content : JSON.stringify(content));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'docflow-bundle-spec-'));
    write('package.json', {
      name: 'ws',
      dependencies: { zod: '^4', pg: '^8', '@aws-sdk/client-s3': '^3', typeorm: '^0.3', s3rver: '^3' },
      devDependencies: { jest: '^30' },
    });
    for (const [name, version] of [
      ['zod', '4.1.0'],
      ['pg', '8.2.0'],
      ['@aws-sdk/client-s3', '3.9.0'],
      ['typeorm', '0.3.1'],
      ['jest', '30.0.0'],
    ])
      write(`node_modules/${name}/package.json`, { name, version });
    write('apps/svc/package.json', { name: '@docflow/svc', version: '0.1.0', main: 'dist/main.js' });
    write(
      'apps/svc/dist/main.js',
      [
        '"use strict";',
        '// require("s3rver") in a comment is not a dependency',
        'const a = require("./feature/index");',
        'const z = require("zod/v4");',
        'const fs = require("node:fs"); const path = require("path");',
      ].join('\n'),
    );
    write('apps/svc/dist/feature/index.js', 'require("@docflow/db");');
    write('apps/svc/dist/fixtures.js', 'require("jest");'); // not reachable from an entry point
    write('libs/db/package.json', {
      name: '@docflow/db',
      version: '0.1.0',
      main: 'dist/index.js',
      docflow: { runtimeDependencies: ['pg'] },
    });
    write(
      'libs/db/dist/index.js',
      'require("typeorm"); Promise.resolve().then(() => require("@aws-sdk/client-s3"));',
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const project = () => [...sut.workspacePackages(root).values()].find((p) => p.root === 'apps/svc')!;

  it('follows require() from the entry points through the libraries, and adds declared run-time packages', () => {
    const collected = sut.collectDependencies('apps/svc', root);
    expect(collected.libraries).toEqual(['libs/db']);
    expect([...collected.packages.keys()].sort()).toEqual(['@aws-sdk/client-s3', 'pg', 'typeorm', 'zod']);
    expect(sut.bundleManifest(project(), collected, root).dependencies).toEqual({
      '@aws-sdk/client-s3': '3.9.0',
      pg: '8.2.0',
      typeorm: '0.3.1',
      zod: '4.1.0',
    });
  });

  it('refuses a devDependency loaded at run time, naming the file', () => {
    write('apps/svc/dist/migrate.js', 'require("jest");');
    expect(() => sut.bundleManifest(project(), sut.collectDependencies('apps/svc', root), root)).toThrow(
      'jest is loaded at run time (apps/svc/dist/migrate.js) but is a devDependency of the root package.json',
    );
  });

  it('follows the commands a project declares as docflow.entryPoints, and refuses one that is not built', () => {
    write('apps/svc/dist/rotate.js', 'require("@aws-sdk/client-s3");');
    write('apps/svc/package.json', {
      name: '@docflow/svc',
      version: '0.1.0',
      main: 'dist/main.js',
      docflow: { entryPoints: ['dist/rotate.js'] },
    });
    write('libs/db/dist/index.js', 'require("typeorm");');
    expect([...sut.collectDependencies('apps/svc', root).packages]).toContainEqual([
      '@aws-sdk/client-s3',
      new Set(['apps/svc/dist/rotate.js']),
    ]);

    rmSync(join(root, 'apps/svc/dist/rotate.js'));
    expect(() => sut.collectDependencies('apps/svc', root)).toThrow(
      'apps/svc/dist/rotate.js (docflow.entryPoints) is missing',
    );
  });

  it('refuses an unbuilt library', () => {
    rmSync(join(root, 'libs/db/dist'), { recursive: true });
    expect(() => sut.collectDependencies('apps/svc', root)).toThrow('libs/db is not built');
  });

  it('names packages by their first segment, or two when scoped', () => {
    expect(['zod/v4', '@aws-sdk/client-s3/dist/x', 'pg'].map(sut.packageNameOf)).toEqual([
      'zod',
      '@aws-sdk/client-s3',
      'pg',
    ]);
  });
});
