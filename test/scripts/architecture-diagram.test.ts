/**
 * The architecture picture in the README is generated from the synthesized reference app. This test fails when
 * docs/architecture.dot no longer matches the app: run `npm run diagram` and commit the result.
 */
import * as fs from 'fs';
import * as path from 'path';
import { referenceDot } from '../../scripts/architecture-diagram';
import { testApp } from '../rig/synth';

test('docs/architecture.dot is regenerated from the current reference app', () => {
  const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'architecture.dot'), 'utf8');
  expect(referenceDot(testApp())).toBe(committed);
});

test('the picture shows every library construct of the reference app and how they connect', () => {
  const dot = referenceDot(testApp());
  for (const node of ['"Network"', '"FrontDoor"', '"Audit"', '"Guardrail"', '"GuardrailEnforcer"']) expect(dot).toContain(node);
  expect(dot).toContain('"GuardrailEnforcer" -> "Guardrail";');
  expect(dot).toContain('"Audit" -> "GuardrailEnforcer";');
});
