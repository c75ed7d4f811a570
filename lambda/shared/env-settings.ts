/**
 * Reading the handlers' numeric settings from their environment (as the constructs write it). Internal to the
 * handlers: not part of the `cdk-ai-defense/enforcement` exports.
 */

/** An environment map (pass `process.env`). */
export type EnvMap = Readonly<Record<string, string | undefined>>;

/**
 * The whole number in `env[name]`, or `fallback` when it is unset or empty. A value that is not 1 to 9 digits or is
 * outside `[min, max]` adds a problem naming the value and the allowed range, and gives `fallback`.
 */
export function intSetting(problems: string[], env: EnvMap, name: string, fallback: number, [min, max]: readonly [number, number]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} is "${raw}"; allowed: a whole number from ${min} to ${max}`);
    return fallback;
  }
  return Number(raw);
}
