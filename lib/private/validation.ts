import { Token } from 'aws-cdk-lib';

/**
 * Throws one error that lists every problem with a construct's props, each naming the bad value and what is
 * allowed. Validators return `string[]` so that they stay pure and table-testable.
 */
export function throwIfInvalid(constructName: string, errors: string[]): void {
  if (errors.length > 0) throw new Error(`${constructName}: invalid props:\n  - ${errors.join('\n  - ')}`);
}

/** A number within [min, max] (tokens pass: they are checked at deploy time). */
export function validateRange(field: string, value: number | undefined, min: number, max: number): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  if (!Number.isFinite(value) || value < min || value > max) {
    return [`${field} is ${value}; allowed: a number from ${min} to ${max}`];
  }
  return [];
}

/** An integer within [min, max]. */
export function validateInteger(field: string, value: number | undefined, min: number, max: number): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  if (!Number.isInteger(value) || value < min || value > max) {
    return [`${field} is ${value}; allowed: a whole number from ${min} to ${max}`];
  }
  return [];
}

/** A string that matches a pattern (tokens pass). */
export function validatePattern(field: string, value: string | undefined, pattern: RegExp, allowed: string): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  return pattern.test(value) ? [] : [`${field} is "${value}"; allowed: ${allowed}`];
}

/** A CIDR block in IPv4 dotted notation with a prefix length. */
export function validateCidr(field: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  return ok ? [] : [`${field} is "${value}"; allowed: an IPv4 CIDR block such as 10.0.0.0/16`];
}
