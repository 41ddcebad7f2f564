#!/usr/bin/env node
// Bundles a deployable: its dist/, the dist/ of every workspace library it loads, a package.json that lists
// only the npm packages it loads at run time (exact versions, as installed here) and the root lockfile pruned
// to them. Then `npm ci --omit=dev` in the bundle: the folder is what the container image runs, at /app.
//
//   node tools/bundle/bundle.js [project...] [--out <dir>] [--no-install]
//
// Without projects: every project with a `bundle` target (apps/*/project.json). Output: <out>/<project>/
// (default dist/bundles). Build first (`nx run <project>:bundle` does). Layout of a bundle:
//
//   package.json, package-lock.json      the pruned manifest and lockfile
//   apps/<project>/{package.json,dist}   the deployable, at the same relative place as in the repository
//   libs/<lib>/{package.json,dist}       each workspace library it loads, linked as node_modules/@docflow/<lib>
//
// Which packages: the tool follows require() from the entry points (dist/main.js, and dist/migrate.js when
// there is one, plus the commands a project's package.json lists as `docflow.entryPoints`, e.g. key-vault's
// dist/rotate-master-key.js) through the app's and the libraries' compiled files. Packages that are loaded by name at run
// time where no require() shows it (TypeORM loads `pg`, Nest's NATS transport loads `nats`, a real `import()`
// hidden from swc) are declared in the project's package.json as `docflow.runtimeDependencies`.
// A package found this way must be a `dependencies` entry of the root package.json, never a devDependency.
'use strict';
const { spawn } = require('node:child_process');
const {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { isBuiltin } = require('node:module');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const WORKSPACE_SCOPE = '@docflow/';
const ENTRY_FILES = ['main.js', 'migrate.js'];

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The workspace projects by package name: `@docflow/config` → { root: 'libs/config', ... }. */
function workspacePackages(root = ROOT) {
  const byName = new Map();
  for (const folder of ['apps', 'libs']) {
    const dir = path.join(root, folder);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = readJson(file);
      byName.set(manifest.name, { name: manifest.name, root: `${folder}/${entry}`, manifest });
    }
  }
  return byName;
}

/** The specifiers of require() and import() calls in compiled JavaScript (comments and strings skipped). */
function requiredSpecifiers(source) {
  const ts = require('typescript');
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/**
 * Follows require() from the project's entry points through its dist/ and its libraries' dist/.
 * Returns the workspace libraries and the npm packages reached, each package with the files that load it.
 */
function collectDependencies(projectRoot, root = ROOT) {
  const workspace = workspacePackages(root);
  const libraries = new Set();
  const packages = new Map();
  const seen = new Set();
  const distOf = (folder) => path.join(root, folder, 'dist');
  const manifests = [readJson(path.join(root, projectRoot, 'package.json'))];
  const entries = ENTRY_FILES.map((file) => path.join(distOf(projectRoot), file)).filter((file) =>
    existsSync(file),
  );
  if (entries.length === 0) {
    throw new Error(`${projectRoot}/dist has no ${ENTRY_FILES.join(' or ')}: build it first (npm run build)`);
  }
  // Further commands the image runs (declared, so a missing one fails the bundle instead of the command).
  for (const entry of manifests[0].docflow?.entryPoints ?? []) {
    const file = path.join(root, projectRoot, entry);
    if (!existsSync(file))
      throw new Error(
        `${projectRoot}/${entry} (docflow.entryPoints) is missing: build it first (npm run build)`,
      );
    entries.push(file);
  }
  const queue = [...entries];
  const addPackage = (name, from) => {
    if (!packages.has(name)) packages.set(name, new Set());
    packages.get(name).add(path.relative(root, from));
  };

  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of requiredSpecifiers(readFileSync(file, 'utf8'))) {
      if (isBuiltin(specifier)) continue;
      if (specifier.startsWith('.')) {
        queue.push(resolveRelative(path.dirname(file), specifier));
        continue;
      }
      const name = packageNameOf(specifier);
      if (name.startsWith(WORKSPACE_SCOPE)) {
        const library = workspace.get(name);
        if (!library)
          throw new Error(`${path.relative(root, file)} loads ${name}, which is not in the workspace`);
        if (!libraries.has(library.root)) {
          libraries.add(library.root);
          manifests.push(library.manifest);
          const main = path.join(root, library.root, library.manifest.main ?? 'dist/index.js');
          if (!existsSync(main)) throw new Error(`${library.root} is not built (${main} is missing)`);
          queue.push(main);
        }
        continue;
      }
      addPackage(name, file);
    }
  }
  for (const manifest of manifests) {
    for (const name of manifest.docflow?.runtimeDependencies ?? [])
      addPackage(name, `${manifest.name} package.json`);
  }
  return { libraries: [...libraries].sort(), packages, files: seen };
}

function resolveRelative(dir, specifier) {
  const base = path.resolve(dir, specifier);
  for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`cannot resolve ${specifier} from ${dir}`);
}

/** The bundle's package.json: exact versions of what is installed here, checked against the root manifest. */
function bundleManifest(project, collected, root = ROOT) {
  const rootManifest = readJson(path.join(root, 'package.json'));
  const problems = [];
  const dependencies = {};
  for (const [name, from] of [...collected.packages].sort(([a], [b]) => a.localeCompare(b))) {
    if (!rootManifest.dependencies?.[name]) {
      const where = rootManifest.devDependencies?.[name] ? 'a devDependency' : 'not a dependency';
      problems.push(
        `${name} is loaded at run time (${[...from].join(', ')}) but is ${where} of the root package.json`,
      );
      continue;
    }
    const installed = path.join(root, 'node_modules', name, 'package.json');
    if (!existsSync(installed)) {
      problems.push(`${name} is not installed (run npm install)`);
      continue;
    }
    dependencies[name] = readJson(installed).version;
  }
  if (problems.length) throw new Error(`${project.name}: ${problems.join('; ')}`);
  return {
    name: `${project.manifest.name}-bundle`,
    version: project.manifest.version,
    private: true,
    description: `${project.manifest.name} as its image runs it (generated by tools/bundle/bundle.js)`,
    license: rootManifest.license,
    engines: rootManifest.engines,
    dependencies,
  };
}

let graphLoading;

/** Prunes the root lockfile to the manifest's packages with Nx's lockfile pruning. */
async function prunedLockfile(manifest, projectRoot, root = ROOT) {
  process.env.NX_DAEMON ??= 'false';
  const { createProjectGraphAsync } = require('@nx/devkit');
  const { generatePrunedDeployOutput } = require('@nx/js');
  graphLoading ??= createProjectGraphAsync({ exitOnError: false });
  const graph = await graphLoading;
  let lockfile;
  generatePrunedDeployOutput({ ...manifest }, graph, projectRoot, {
    packageManager: 'npm',
    workspaceRoot: root,
    emit: (file, content) => {
      if (file.endsWith('package-lock.json')) lockfile = JSON.parse(String(content));
    },
  });
  if (!lockfile) throw new Error('Nx produced no package-lock.json');
  return lockfile;
}

/** Adds the workspace libraries as `file:` dependencies, linked by npm into node_modules/@docflow/. */
function linkLibraries(manifest, lockfile, libraries, workspace) {
  const byRoot = new Map([...workspace.values()].map((p) => [p.root, p]));
  for (const libraryRoot of libraries) {
    const { name, manifest: libraryManifest } = byRoot.get(libraryRoot);
    manifest.dependencies[name] = `file:${libraryRoot}`;
    lockfile.packages[''].dependencies = {
      ...lockfile.packages[''].dependencies,
      [name]: `file:${libraryRoot}`,
    };
    lockfile.packages[libraryRoot] = { name, version: libraryManifest.version };
    lockfile.packages[`node_modules/${name}`] = { resolved: libraryRoot, link: true };
  }
  manifest.dependencies = sortKeys(manifest.dependencies);
  lockfile.packages[''].dependencies = sortKeys(lockfile.packages[''].dependencies);
  lockfile.packages = sortKeys(lockfile.packages, (a, b) =>
    a === '' ? -1 : b === '' ? 1 : a.localeCompare(b),
  );
}

function sortKeys(object, compare = (a, b) => a.localeCompare(b)) {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => compare(a, b)));
}

/** Only what runs: package.json and dist/, without source maps of test helpers or anything else. */
function copyProject(from, to) {
  mkdirSync(to, { recursive: true });
  const manifest = readJson(path.join(from, 'package.json'));
  const { name, version, private: isPrivate, main, bin } = manifest;
  writeFileSync(
    path.join(to, 'package.json'),
    `${JSON.stringify({ name, version, private: isPrivate, main, ...(bin ? { bin } : {}) }, null, 2)}\n`,
  );
  cpSync(path.join(from, 'dist'), path.join(to, 'dist'), {
    recursive: true,
    filter: (source) => !/\.(spec|int-spec)\.js(\.map)?$/.test(source),
  });
}

/**
 * Writes the bundle of `projectName` into `<out>/<projectName>` and, unless `install` is false, installs its
 * production dependencies there with `npm ci --omit=dev`. Returns the bundle's folder and manifest.
 */
async function bundle(
  projectName,
  { out = path.join(ROOT, 'dist', 'bundles'), install = true, root = ROOT, log = console.log } = {},
) {
  const workspace = workspacePackages(root);
  const project = [...workspace.values()].find((p) => p.root === `apps/${projectName}`);
  if (!project) throw new Error(`no project apps/${projectName}`);
  const collected = collectDependencies(project.root, root);
  const manifest = bundleManifest(project, collected, root);
  const lockfile = await prunedLockfile(manifest, project.root, root);
  linkLibraries(manifest, lockfile, collected.libraries, workspace);

  const target = path.resolve(out, projectName);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const folder of [project.root, ...collected.libraries])
    copyProject(path.join(root, folder), path.join(target, folder));
  writeFileSync(path.join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(target, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
  log(
    `${projectName}: ${Object.keys(manifest.dependencies).length - collected.libraries.length} packages, ` +
      `${collected.libraries.length} libraries → ${path.relative(process.cwd(), target) || target}`,
  );
  if (install) await installBundle(target);
  return { directory: target, manifest, libraries: collected.libraries };
}

/** `npm ci --omit=dev` in a bundle: its production dependencies, exactly as its pruned lockfile lists them. */
function installBundle(directory) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npm',
      ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      {
        cwd: directory,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, npm_config_update_notifier: 'false' },
      },
    );
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm ci in ${directory} exited with ${code}`)),
    );
  });
}

/** Projects with a `bundle` target in their project.json. */
function bundledProjects(root = ROOT) {
  return readdirSync(path.join(root, 'apps'))
    .filter((entry) => {
      const file = path.join(root, 'apps', entry, 'project.json');
      return existsSync(file) && readJson(file).targets?.bundle !== undefined;
    })
    .sort();
}

async function main(argv) {
  const projects = [];
  let out;
  let install = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i]);
    else if (argv[i] === '--no-install') install = false;
    else if (argv[i].startsWith('-')) throw new Error(`unknown option ${argv[i]}`);
    else projects.push(argv[i]);
  }
  for (const project of projects.length ? projects : bundledProjects())
    await bundle(project, { out, install });
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`bundle: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

module.exports = {
  bundle,
  bundleManifest,
  bundledProjects,
  installBundle,
  collectDependencies,
  packageNameOf,
  workspacePackages,
};
