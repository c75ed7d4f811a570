/**
 * Regenerates docs/architecture.dot from the synthesized reference app, and docs/architecture.svg when Graphviz
 * (`dot`) is installed (`apt-get install graphviz`). `npm run diagram`. A test checks the .dot file is current.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildReferenceApp } from '../bin/reference-app';
import { libraryAreaOf } from './diagram/areas';
import { architectureDiagram, toDot } from './diagram/graph';

const root = path.resolve(__dirname, '..');
export function referenceDot(app: App): string {
  const stack = buildReferenceApp(app);
  return toDot(architectureDiagram(stack, libraryAreaOf(path.join(root, 'lib'))), 'cdk-ai-defense reference architecture');
}

if (require.main === module) {
  const dot = referenceDot(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
  const dotFile = path.join(root, 'docs', 'architecture.dot');
  fs.mkdirSync(path.dirname(dotFile), { recursive: true });
  fs.writeFileSync(dotFile, dot);
  console.log(`wrote ${path.relative(root, dotFile)}`);
  const svg = spawnSync('dot', ['-Tsvg', dotFile, '-o', path.join(root, 'docs', 'architecture.svg')], { encoding: 'utf8' });
  if (svg.error) console.log('dot (Graphviz) not found: install it with "apt-get install graphviz" to render docs/architecture.svg');
  else if (svg.status !== 0) throw new Error(svg.stderr);
  else console.log('wrote docs/architecture.svg');
  const png = spawnSync('dot', ['-Tpng', '-Gdpi=110', dotFile, '-o', path.join(root, 'docs', 'architecture.png')], { encoding: 'utf8' });
  if (!png.error && png.status === 0) console.log('wrote docs/architecture.png');
}
