#!/usr/bin/env node
// Validates Argo manifests against the Argo Workflows v4.1 schemas in ../shared/argo (or $DOCFLOW_ARGO_SCHEMAS):
// Argo's JSON Schema (schema.json), the CRD's openAPIV3Schema with the API server's own rules, and docflow's
// strict check for unknown fields.
//
//   node tools/argo/validate.js                 every *.yaml of argo-templates/
//   node tools/argo/validate.js <file|dir>...   the given files and folders
//
// Exit codes: 0 valid, 1 invalid manifests, 2 nothing to check or the schemas / the built lib are missing.
// Uses the built lib (libs/workflow-engine/dist): run `npm run build` first.
'use strict';
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');

function loadLib() {
  try {
    return require('@docflow/workflow-engine');
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND') {
      console.error('argo-validate: libs/workflow-engine is not built; run `npm run build` first.');
      process.exit(2);
    }
    throw error;
  }
}

function main(argv) {
  const lib = loadLib();
  const root = path.resolve(__dirname, '..', '..');
  const targets = argv.length ? argv : [path.join(root, 'argo-templates')];

  let validator;
  try {
    validator = lib.ArgoValidator.forDirectory(lib.argoSchemasDirectory());
  } catch (error) {
    console.error(`argo-validate: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }

  const reports = [];
  for (const target of targets) {
    if (!existsSync(target)) {
      console.error(`argo-validate: ${target} does not exist`);
      return 2;
    }
    reports.push(
      ...(statSync(target).isDirectory()
        ? lib.validateArgoManifestDirectory(target, validator)
        : lib.validateArgoManifestFile(target, validator)),
    );
  }
  if (reports.length === 0) {
    console.error(`argo-validate: no *.yaml manifests in ${targets.join(', ')}`);
    return 2;
  }

  let invalid = 0;
  for (const report of reports) {
    const where = `${path.relative(process.cwd(), report.file) || report.file}#${report.document}`;
    const what = `${report.kind ?? '?'}/${report.name ?? '?'}`;
    if (report.issues.length === 0) {
      console.log(`ok      ${where} ${what} (schema.json, CRD, strict)`);
    } else {
      invalid++;
      console.log(`INVALID ${where} ${what}\n${lib.formatArgoIssues(report.issues)}`);
    }
  }
  console.log(
    `${reports.length - invalid} valid, ${invalid} invalid (schemas: ${validator.files.directory})`,
  );
  return invalid ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
