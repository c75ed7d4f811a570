import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CONFIG_LAYER_FILE } from '../../../lambda/tool-interceptor/config';
import { sha256Hex } from '../../../lambda/shared/canonical-json';

/**
 * A Lambda layer that holds the gateway configuration file at `/opt/<CONFIG_LAYER_FILE>`. The file is written to a
 * fresh folder named after its hash and staged as an asset, so the same configuration always gives the same asset.
 */
export function gatewayConfigLayer(scope: Construct, id: string, text: string): { layer: lambda.LayerVersion; sha256: string } {
  const sha256 = sha256Hex(text);
  const dir = path.join(os.tmpdir(), `cdk-ai-defense-gateway-config-${sha256.slice(0, 16)}-${process.pid}`);
  const file = path.join(dir, CONFIG_LAYER_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, 'utf8');
  const layer = new lambda.LayerVersion(scope, id, {
    code: lambda.Code.fromAsset(dir),
    description: `cdk-ai-defense GuardedGateway configuration (tool registry, tool policy, pins) sha256:${sha256.slice(0, 16)}`,
    compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
    compatibleArchitectures: [lambda.Architecture.ARM_64],
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { layer, sha256 };
}
