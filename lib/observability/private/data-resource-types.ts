/** The shape of a CloudTrail `resources.type` value. */
const TYPE_PATTERN = /^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/;

/** Types CloudTrail refuses in `resources.type`, with what to use instead. */
const REJECTED_TYPES: { [type: string]: string } = {
  'AWS::Bedrock::Prompt': 'prompt activity is recorded under AWS::Bedrock::PromptVersion (AuditDataResourceType.BEDROCK_PROMPT_VERSION)',
};

/** Problems with a data resource type name, each naming the bad value and what is allowed (empty when valid). */
export function validateDataResourceTypeName(type: string): string[] {
  if (Object.prototype.hasOwnProperty.call(REJECTED_TYPES, type)) {
    return [`data resource type "${type}" is rejected by CloudTrail; ${REJECTED_TYPES[type]}`];
  }
  if (!TYPE_PATTERN.test(type)) {
    return [`data resource type "${type}" is not a CloudTrail resource type; allowed: a name of the form AWS::Service::Type, for example AWS::Bedrock::KnowledgeBase`];
  }
  return [];
}
