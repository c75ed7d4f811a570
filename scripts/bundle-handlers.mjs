#!/usr/bin/env node
// Bundles every lambda/<handler>/index.ts into dist/handlers/<handler>/index.mjs with the local esbuild.
// ESM, minified, module-first main fields, AWS SDK bundled (pinned, not the runtime's), and any .wasm file that a
// bundled module loads from its own folder copied next to the bundle. Usage: bundle-handlers.mjs [outdir] [name...]
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lambdaDir = join(root, 'lambda');

// ESM output has no require, __filename or __dirname; some bundled CommonJS modules (and wasm loaders) need them.
const banner = [
  "import { createRequire as __cadCreateRequire } from 'node:module';",
  "import { fileURLToPath as __cadFileURLToPath } from 'node:url';",
  "import { dirname as __cadDirname } from 'node:path';",
  'const require = __cadCreateRequire(import.meta.url);',
  'const __filename = __cadFileURLToPath(import.meta.url);',
  'const __dirname = __cadDirname(__filename);',
].join('\n');

/**
 * Bundles one entry into `outdir/index.mjs` with the handlers' settings, and copies next to it every .wasm file
 * that sits in the folder of a bundled module (wasm loaders read their file from their own folder).
 * @returns the bundle's size and the .wasm files copied
 */
export async function bundleEntry(entry, outdir) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, 'index.mjs');
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    external: [],
    banner: { js: banner },
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const wasm = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const dir = dirname(resolve(process.cwd(), input));
    for (const file of readdirSync(dir)) if (file.endsWith('.wasm')) wasm.add(join(dir, file));
  }
  for (const file of wasm) copyFileSync(file, join(outdir, file.split('/').pop()));
  return { bytes: statSync(outfile).size, wasm: [...wasm].map((f) => f.split('/').pop()) };
}

async function main() {
  const [outArg, ...only] = process.argv.slice(2);
  const outRoot = resolve(root, outArg ?? 'dist/handlers');
  const handlers = readdirSync(lambdaDir)
    .filter((name) => name !== 'shared' && existsSync(join(lambdaDir, name, 'index.ts')))
    .filter((name) => only.length === 0 || only.includes(name))
    .sort();
  const results = [];
  for (const name of handlers) {
    results.push({ name, ...(await bundleEntry(join(lambdaDir, name, 'index.ts'), join(outRoot, name))) });
  }
  for (const r of results) {
    console.log(`bundled ${r.name}: ${r.bytes} bytes${r.wasm.length ? ` + ${r.wasm.join(', ')}` : ''}`);
  }
  if (handlers.length === 0) console.log('no handlers to bundle');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
