/**
 * Small measurement helpers for `npm run bench`. Figures are printed, never asserted: timing on a shared 2-core
 * machine is information, not a pass/fail signal.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { pathToFileURL } from 'url';
import * as zlib from 'zlib';

export const ROOT = path.resolve(__dirname, '..');
export const HANDLERS_DIR = path.join(ROOT, 'dist', 'handlers');

export interface BundleFigures {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Extra files shipped next to the bundle (for example .wasm). */
  readonly extraBytes: number;
}

/** Size of a prebundled handler (`npm run bundle` must have run). */
export function bundleFigures(handlerName: string): BundleFigures {
  const dir = path.join(HANDLERS_DIR, handlerName);
  const file = path.join(dir, 'index.mjs');
  const code = fs.readFileSync(file);
  const extraBytes = fs
    .readdirSync(dir)
    .filter((f) => f !== 'index.mjs')
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  return { bytes: code.length, gzipBytes: zlib.gzipSync(code, { level: 9 }).length, extraBytes };
}

/**
 * Median wall time, in milliseconds, of a fresh `node` process importing an ES module (the cold-start import
 * cost), minus the median of an empty process. `runs` processes each.
 */
export function coldImportMs(modulePath: string, runs = 7, env: NodeJS.ProcessEnv = {}): number {
  const time = (script: string): number => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...env },
        encoding: 'utf8',
      });
      const t1 = performance.now();
      if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
      samples.push(t1 - t0);
    }
    return median(samples);
  };
  const baseline = time('void 0');
  const url = new URL(`file://${path.resolve(modulePath)}`).href;
  return time(`await import(${JSON.stringify(url)});`) - baseline;
}

/** Writes a tiny ES module that imports only the named packages (to compare a handler with its SDK client alone). */
export function writeImportOnlyModule(name: string, source: string): string {
  const dir = path.join(ROOT, 'dist', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(file, source);
  return file;
}

/** The handlers' own bundler; imported dynamically: it is an ES module with top-level await, which require cannot load. */
const HANDLER_BUNDLER = pathToFileURL(path.join(ROOT, 'scripts', 'bundle-handlers.mjs')).href;

/**
 * Bundles `entry` exactly as the handlers are bundled (`bundleEntry` of scripts/bundle-handlers.mjs: same esbuild
 * settings and banner), into `dist/bench/<name>/index.mjs`, and returns that path.
 */
export async function bundleLikeHandlers(entry: string, name: string): Promise<string> {
  const { bundleEntry } = (await import(HANDLER_BUNDLER)) as { bundleEntry: (entry: string, outdir: string) => Promise<unknown> };
  const outdir = path.join(ROOT, 'dist', 'bench', name);
  await bundleEntry(entry, outdir);
  return path.join(outdir, 'index.mjs');
}

export interface LatencyFigures {
  readonly runs: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly meanUs: number;
}

/** Per-call latency of a synchronous or asynchronous function, after a warm-up, in microseconds. */
export async function latency(fn: () => unknown | Promise<unknown>, runs = 5000, warmup = 500): Promise<LatencyFigures> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = new Array<number>(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples[i] = (performance.now() - t0) * 1000;
  }
  samples.sort((a, b) => a - b);
  return {
    runs,
    p50us: round(samples[Math.floor(runs * 0.5)]),
    p99us: round(samples[Math.min(runs - 1, Math.floor(runs * 0.99))]),
    meanUs: round(samples.reduce((a, b) => a + b, 0) / runs),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Prints a titled table of rows (objects with the same keys). */
export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  console.log(`\n## ${title}`);
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]);
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  console.log(keys.map((k, i) => k.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(keys.map((k, i) => String(r[k]).padEnd(widths[i])).join('  '));
}
