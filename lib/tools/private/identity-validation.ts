import { Token } from 'aws-cdk-lib';
import { COOKIE_NAME_PATTERN, PARAMETER_NAME_PATTERN, isExactHttpsUrl } from '../../../lambda/oauth-callback/config';

/** Workload identity names (CloudFormation: 3 to 255 of letters, digits, `_`, `.`, `-`). */
export const WORKLOAD_IDENTITY_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** Credential provider names (CloudFormation: 1 to 128 of letters, digits, `_`, `-`). */
export const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,128}$/;
/** OAuth scope tokens (RFC 6749 §3.3). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
/** Client ids and JSON keys: printable, no whitespace. */
export const PRINTABLE = /^[\x21-\x7e]{1,256}$/;
/** The OIDC discovery document URL AgentCore accepts. */
export const DISCOVERY_URL = /^https:\/\/[^\s?#*]+\/\.well-known\/openid-configuration$/;

export { COOKIE_NAME_PATTERN, PARAMETER_NAME_PATTERN };

/** An exact https URL (no wildcard, query, fragment or credentials); tokens pass. */
export function validateExactHttpsUrl(field: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  return isExactHttpsUrl(value) ? [] : [`${field} is "${value}"; allowed: an exact https URL without wildcards, query, fragment or credentials`];
}

/** A list of exact https URLs without duplicates. */
export function validateReturnUrls(field: string, urls: readonly string[]): string[] {
  const errors = urls.flatMap((u, i) => validateExactHttpsUrl(`${field}[${i}]`, u));
  const seen = new Set<string>();
  for (const u of urls) {
    if (Token.isUnresolved(u)) continue;
    if (seen.has(u)) errors.push(`${field} lists "${u}" twice; allowed: each URL once`);
    seen.add(u);
  }
  return errors;
}

/** A non-empty list of distinct OAuth scope tokens. */
export function validateScopes(field: string, scopes: readonly string[] | undefined): string[] {
  if (scopes === undefined || scopes.length === 0) return [`${field} is empty; allowed: at least one OAuth scope`];
  const errors: string[] = [];
  for (const s of scopes) {
    if (Token.isUnresolved(s)) continue;
    if (!SCOPE_TOKEN.test(s)) errors.push(`${field} has "${s}"; allowed: OAuth scope tokens (printable, no spaces, quotes or backslashes)`);
  }
  if (new Set(scopes).size !== scopes.length) errors.push(`${field} lists a scope twice; allowed: distinct scopes`);
  return errors;
}
