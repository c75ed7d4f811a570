import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** Folder, below the package root, that `npm run build` fills with one prebundled folder per handler. */
export const HANDLER_BUNDLE_DIR = path.join('dist', 'handlers');

/** File name of every prebundled handler (ESM). */
export const HANDLER_BUNDLE_FILE = 'index.mjs';

/** The Lambda `handler` setting that matches {@link HANDLER_BUNDLE_FILE}. */
export const HANDLER_EXPORT = 'index.handler';

let packageRoot: string | undefined;

/** The folder that holds this package's package.json, found from this file whether it runs from source or dist. */
export function findPackageRoot(start: string = __dirname): string {
  if (packageRoot && start === __dirname) return packageRoot;
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'cdk-ai-defense') {
        if (start === __dirname) packageRoot = dir;
        return dir;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk-ai-defense: cannot find the package root above ${start}`);
    dir = parent;
  }
}

/**
 * Code for one of the library's Lambda handlers, from the bundle built ahead of time by `npm run build`.
 *
 * A consumer's `cdk synth` therefore needs neither esbuild nor Docker. When the bundle is missing the
 * synth fails with the command that builds it, never with a function that ships without its code.
 */
export function handlerCode(handlerName: string): lambda.Code {
  if (!/^[a-z][a-z0-9-]*$/.test(handlerName)) {
    throw new Error(`cdk-ai-defense: invalid handler name "${handlerName}": use lower-case letters, digits and dashes`);
  }
  const dir = path.join(findPackageRoot(), HANDLER_BUNDLE_DIR, handlerName);
  if (!fs.existsSync(path.join(dir, HANDLER_BUNDLE_FILE))) {
    throw new Error(
      `cdk-ai-defense: the bundle for handler "${handlerName}" is missing at ${dir}. ` +
        'Run "npm run build" (or "npm run bundle") in the cdk-ai-defense package first.',
    );
  }
  return lambda.Code.fromAsset(dir);
}
