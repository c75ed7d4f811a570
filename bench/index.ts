/**
 * `npm run bench`: bundles the handlers, then runs every `bench/*.bench.ts` in turn. Each bench module exports
 * `run(): Promise<void>` and prints its own figures with `printTable`.
 */
import * as fs from 'fs';
import * as path from 'path';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  console.log(`# cdk-ai-defense bench (node ${process.version}, ${new Date().toISOString()})`);
  for (const f of files) {
    const mod = (await import(path.join(__dirname, f))) as { run: () => Promise<void> };
    console.log(`\n# ${f}`);
    await mod.run();
  }
  if (files.length === 0) console.log('no bench files');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
