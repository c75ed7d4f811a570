#!/usr/bin/env node
// Launcher of the cdk-ai-defense command line (`cdk-ai-defense scan-tools <file | ->`).
// Runs the compiled CLI from dist/ (npm run build); from a source checkout, run it under tsx:
//   node --import tsx cli/cdk-ai-defense.js scan-tools tools.json
'use strict';
const { existsSync } = require('fs');
const { join } = require('path');

const built = join(__dirname, '..', 'dist', 'lib', 'cli', 'scan-tools.js');
const source = join(__dirname, '..', 'lib', 'cli', 'scan-tools.ts');
let cli;
try {
  cli = require(existsSync(built) ? built : source);
} catch (err) {
  process.stderr.write(`cdk-ai-defense: cannot load the CLI (${err && err.code ? err.code : 'error'}); run "npm run build" first\n`);
  process.exit(2);
}
process.exitCode = cli.runCli(process.argv.slice(2));
