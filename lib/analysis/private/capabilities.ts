import { ToolCapability } from '../../tools/tool-registry';

/** All three capabilities, in the fixed order used in every list the analysis prints. */
export const ALL_CAPABILITIES: readonly ToolCapability[] = Object.freeze(Object.values(ToolCapability));

/** Problems with a list that should hold capability labels (empty when valid). */
export function capabilityProblems(capabilities: unknown, where: string): string[] {
  if (!Array.isArray(capabilities)) return [`${where} is ${JSON.stringify(capabilities)}; allowed: a list of ${ALL_CAPABILITIES.join(', ')}`];
  return capabilities
    .filter((c) => !ALL_CAPABILITIES.includes(c as ToolCapability))
    .map((c) => `${where} contains ${JSON.stringify(c)}; allowed: ${ALL_CAPABILITIES.join(', ')}`);
}

/** The distinct capabilities of a valid list, in the fixed order; throws (fail closed) on an invalid list. */
export function normalizeCapabilities(capabilities: unknown, where: string): ToolCapability[] {
  const problems = capabilityProblems(capabilities, where);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const set = new Set(capabilities as ToolCapability[]);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}
