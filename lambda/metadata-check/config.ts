/**
 * Configuration of the metadata check: environment variables written by `SecureKnowledgeBase`, and their parser.
 * Shared by the construct and the handler so the names exist once. Pure.
 */
import { parseStrictJson } from '../shared/canonical-json';
import { ConfigurationError } from '../shared/errors';
import { MetadataContractSpec, parseMetadataContract } from './contract';
import { IngestionLayout } from './decide';

/** Environment variable names. */
export const MetadataCheckEnv = {
  /** The metadata contract, JSON. */
  CONTRACT: 'CAD_METADATA_CONTRACT',
  /** The documents bucket name. */
  BUCKET: 'CAD_DOCUMENTS_BUCKET',
  STAGING_PREFIX: 'CAD_STAGING_PREFIX',
  PUBLISHED_PREFIX: 'CAD_PUBLISHED_PREFIX',
  QUARANTINE_PREFIX: 'CAD_QUARANTINE_PREFIX',
} as const;

/** The handler's configuration. */
export interface MetadataCheckConfig {
  readonly contract: MetadataContractSpec;
  readonly layout: IngestionLayout;
}

const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/;

/** Problems of a prefix layout (each prefix a clean `a/b/` path; none equal to or inside another). */
export function layoutProblems(staging: string, published: string, quarantine: string): string[] {
  const problems: string[] = [];
  const named: Array<[string, string]> = [
    ['stagingPrefix', staging],
    ['publishedPrefix', published],
    ['quarantinePrefix', quarantine],
  ];
  for (const [name, value] of named) {
    if (typeof value !== 'string' || !PREFIX.test(value) || value.length > 256) problems.push(`${name} is ${JSON.stringify(value)}; allowed: a key prefix such as "published/" (segments of A-Za-z0-9!_.*'()-, ending with "/")`);
  }
  for (let i = 0; i < named.length; i++) {
    for (let j = 0; j < named.length; j++) {
      if (i !== j && typeof named[i][1] === 'string' && typeof named[j][1] === 'string' && named[j][1].startsWith(named[i][1])) {
        problems.push(`${named[j][0]} "${named[j][1]}" lies inside ${named[i][0]} "${named[i][1]}"; allowed: three separate prefixes`);
      }
    }
  }
  return problems;
}

/** Reads and validates the configuration. Throws a {@link ConfigurationError} naming every problem. */
export function metadataCheckConfigFromEnv(env: Readonly<Record<string, string | undefined>>): MetadataCheckConfig {
  const problems: string[] = [];
  let contract: MetadataContractSpec | undefined;
  const raw = env[MetadataCheckEnv.CONTRACT];
  if (!raw) problems.push(`${MetadataCheckEnv.CONTRACT} is not set`);
  else {
    try {
      contract = parseMetadataContract(parseStrictJson(raw));
    } catch (err) {
      problems.push(...((err as { problems?: string[] }).problems ?? [`${MetadataCheckEnv.CONTRACT} is not valid JSON`]));
    }
  }
  const bucket = env[MetadataCheckEnv.BUCKET] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) problems.push(`${MetadataCheckEnv.BUCKET} is "${bucket}"; allowed: a bucket name`);
  const staging = env[MetadataCheckEnv.STAGING_PREFIX] ?? '';
  const published = env[MetadataCheckEnv.PUBLISHED_PREFIX] ?? '';
  const quarantine = env[MetadataCheckEnv.QUARANTINE_PREFIX] ?? '';
  problems.push(...layoutProblems(staging, published, quarantine));
  if (problems.length > 0) throw new ConfigurationError(problems);
  return Object.freeze({
    contract: contract as MetadataContractSpec,
    layout: Object.freeze({ bucket, stagingPrefix: staging, publishedPrefix: published, quarantinePrefix: quarantine }),
  });
}
