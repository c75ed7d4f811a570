import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FileSystem } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AgentDefinition, DEFINITION_LAYER_PATH, renderDefinition } from '../../../lambda/agent-loop/config';

/** The definition layer of one agent, and the hash the function's environment pins. */
export interface DefinitionLayer {
  readonly layer: lambda.LayerVersion;
  readonly sha256: string;
}

/**
 * Writes the agent definition (system prompt, tool allowlist, local tool specs) into a Lambda layer: a definition
 * can be far larger than Lambda's 4 KB environment. The layer is immutable per version and the function's
 * (KMS-encrypted) environment pins its SHA-256, which the handler checks before it trusts the file.
 *
 * The file is written to a temporary folder and staged as an asset at once (as `s3-deployment`'s `Source.data`
 * does), so its asset hash follows its content.
 */
export function definitionLayer(scope: Construct, id: string, definition: AgentDefinition): DefinitionLayer {
  const text = renderDefinition(definition);
  const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
  const workdir = FileSystem.mkdtemp('cdk-ai-defense-agent-loop');
  try {
    const file = path.join(workdir, DEFINITION_LAYER_PATH);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, 'utf8');
    const layer = new lambda.LayerVersion(scope, id, {
      code: lambda.Code.fromAsset(workdir),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      description: `cdk-ai-defense agent-loop definition sha256:${sha256}`,
    });
    return { layer, sha256 };
  } finally {
    FileSystem.rmrf(workdir);
  }
}
