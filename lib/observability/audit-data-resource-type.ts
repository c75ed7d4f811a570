import { validateDataResourceTypeName } from './private/data-resource-types';

/**
 * A CloudTrail data-event resource type (`resources.type` of an advanced event selector) that `AiAuditTrail`
 * records. Each type becomes one advanced event selector (`eventCategory = Data`, `resources.type = <type>`).
 *
 * The constants cover the Amazon Bedrock and Amazon Bedrock AgentCore types that CloudTrail lists for data
 * events; `AuditDataResourceType.of()` accepts any other type (for example a type CloudTrail adds later).
 *
 * `AWS::Bedrock::Prompt` is not a data-event type (CloudTrail rejects it); prompt activity is recorded under
 * `AWS::Bedrock::PromptVersion`.
 *
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
 */
export class AuditDataResourceType {
  // ---- Amazon Bedrock ----
  /** Model invocations on a model or inference profile (InvokeModel and Converse on model resources). */
  public static readonly BEDROCK_MODEL = new AuditDataResourceType('AWS::Bedrock::Model');
  /** Asynchronous model invocations (StartAsyncInvoke, GetAsyncInvoke, ListAsyncInvokes). */
  public static readonly BEDROCK_ASYNC_INVOKE = new AuditDataResourceType('AWS::Bedrock::AsyncInvoke');
  /** ApplyGuardrail calls on a guardrail. */
  public static readonly BEDROCK_GUARDRAIL = new AuditDataResourceType('AWS::Bedrock::Guardrail');
  /** Retrieve and RetrieveAndGenerate calls on a knowledge base. */
  public static readonly BEDROCK_KNOWLEDGE_BASE = new AuditDataResourceType('AWS::Bedrock::KnowledgeBase');
  /** InvokeAgent calls on an agent alias. */
  public static readonly BEDROCK_AGENT_ALIAS = new AuditDataResourceType('AWS::Bedrock::AgentAlias');
  /** InvokeInlineAgent calls. */
  public static readonly BEDROCK_INLINE_AGENT = new AuditDataResourceType('AWS::Bedrock::InlineAgent');
  /** InvokeFlow calls on a flow alias. */
  public static readonly BEDROCK_FLOW_ALIAS = new AuditDataResourceType('AWS::Bedrock::FlowAlias');
  /** Flow execution activity. */
  public static readonly BEDROCK_FLOW_EXECUTION = new AuditDataResourceType('AWS::Bedrock::FlowExecution');
  /** Activity on prompt versions (prompt management). */
  public static readonly BEDROCK_PROMPT_VERSION = new AuditDataResourceType('AWS::Bedrock::PromptVersion');
  /** Session management activity (CreateSession, PutInvocationStep, ...). */
  public static readonly BEDROCK_SESSION = new AuditDataResourceType('AWS::Bedrock::Session');
  /** Bedrock tool activity. */
  public static readonly BEDROCK_TOOL = new AuditDataResourceType('AWS::Bedrock::Tool');
  /** Automated reasoning policy activity. */
  public static readonly BEDROCK_AUTOMATED_REASONING_POLICY = new AuditDataResourceType('AWS::Bedrock::AutomatedReasoningPolicy');
  /** Automated reasoning policy version activity. */
  public static readonly BEDROCK_AUTOMATED_REASONING_POLICY_VERSION = new AuditDataResourceType(
    'AWS::Bedrock::AutomatedReasoningPolicyVersion',
  );
  /** Bedrock Data Automation project activity. */
  public static readonly BEDROCK_DATA_AUTOMATION_PROJECT = new AuditDataResourceType('AWS::Bedrock::DataAutomationProject');
  /** Bedrock Data Automation invocation activity. */
  public static readonly BEDROCK_DATA_AUTOMATION_INVOCATION = new AuditDataResourceType('AWS::Bedrock::DataAutomationInvocation');
  /** Bedrock Data Automation profile activity. */
  public static readonly BEDROCK_DATA_AUTOMATION_PROFILE = new AuditDataResourceType('AWS::Bedrock::DataAutomationProfile');
  /** Bedrock Data Automation blueprint activity. */
  public static readonly BEDROCK_BLUEPRINT = new AuditDataResourceType('AWS::Bedrock::Blueprint');

  // ---- Amazon Bedrock AgentCore ----
  /** Gateway invocations (MCP requests through an AgentCore Gateway). */
  public static readonly AGENTCORE_GATEWAY = new AuditDataResourceType('AWS::BedrockAgentCore::Gateway');
  /** Agent runtime invocations. */
  public static readonly AGENTCORE_RUNTIME = new AuditDataResourceType('AWS::BedrockAgentCore::Runtime');
  /** Agent runtime endpoint invocations. */
  public static readonly AGENTCORE_RUNTIME_ENDPOINT = new AuditDataResourceType('AWS::BedrockAgentCore::RuntimeEndpoint');
  /** Memory data-plane calls (CreateEvent, ListEvents, RetrieveMemoryRecords, ...). */
  public static readonly AGENTCORE_MEMORY = new AuditDataResourceType('AWS::BedrockAgentCore::Memory');
  /** Built-in code interpreter sessions. */
  public static readonly AGENTCORE_CODE_INTERPRETER = new AuditDataResourceType('AWS::BedrockAgentCore::CodeInterpreter');
  /** Custom code interpreter sessions. */
  public static readonly AGENTCORE_CODE_INTERPRETER_CUSTOM = new AuditDataResourceType('AWS::BedrockAgentCore::CodeInterpreterCustom');
  /** Built-in browser sessions. */
  public static readonly AGENTCORE_BROWSER = new AuditDataResourceType('AWS::BedrockAgentCore::Browser');
  /** Custom browser sessions. */
  public static readonly AGENTCORE_BROWSER_CUSTOM = new AuditDataResourceType('AWS::BedrockAgentCore::BrowserCustom');
  /** Workload identity token calls (GetWorkloadAccessToken*). */
  public static readonly AGENTCORE_WORKLOAD_IDENTITY = new AuditDataResourceType('AWS::BedrockAgentCore::WorkloadIdentity');
  /** Workload identity directory activity. */
  public static readonly AGENTCORE_WORKLOAD_IDENTITY_DIRECTORY = new AuditDataResourceType(
    'AWS::BedrockAgentCore::WorkloadIdentityDirectory',
  );
  /** Token vault activity (outbound OAuth tokens and API keys handed to agents). */
  public static readonly AGENTCORE_TOKEN_VAULT = new AuditDataResourceType('AWS::BedrockAgentCore::TokenVault');
  /** API key credential provider activity (GetResourceApiKey). */
  public static readonly AGENTCORE_API_KEY_CREDENTIAL_PROVIDER = new AuditDataResourceType(
    'AWS::BedrockAgentCore::APIKeyCredentialProvider',
  );
  /** OAuth2 credential provider activity (GetResourceOauth2Token). */
  public static readonly AGENTCORE_OAUTH2_CREDENTIAL_PROVIDER = new AuditDataResourceType(
    'AWS::BedrockAgentCore::OAuth2CredentialProvider',
  );

  /**
   * A data resource type given by its CloudTrail name, for a type that has no constant here.
   * @param type for example `AWS::BedrockAgentCore::Evaluator`
   * @throws if the name is not of the form `AWS::Service::Type`, or is a type CloudTrail rejects
   */
  public static of(type: string): AuditDataResourceType {
    const errors = validateDataResourceTypeName(type);
    if (errors.length > 0) throw new Error(`AuditDataResourceType: ${errors.join('; ')}`);
    return new AuditDataResourceType(type);
  }

  /** Every Amazon Bedrock type above. */
  public static bedrock(): AuditDataResourceType[] {
    return AuditDataResourceType.all().filter((t) => t.value.startsWith('AWS::Bedrock::'));
  }

  /** Every Amazon Bedrock AgentCore type above. */
  public static agentCore(): AuditDataResourceType[] {
    return AuditDataResourceType.all().filter((t) => t.value.startsWith('AWS::BedrockAgentCore::'));
  }

  /** Every type above (the default of `AiAuditTrailProps.dataResourceTypes`). */
  public static all(): AuditDataResourceType[] {
    return [
      AuditDataResourceType.BEDROCK_MODEL,
      AuditDataResourceType.BEDROCK_ASYNC_INVOKE,
      AuditDataResourceType.BEDROCK_GUARDRAIL,
      AuditDataResourceType.BEDROCK_KNOWLEDGE_BASE,
      AuditDataResourceType.BEDROCK_AGENT_ALIAS,
      AuditDataResourceType.BEDROCK_INLINE_AGENT,
      AuditDataResourceType.BEDROCK_FLOW_ALIAS,
      AuditDataResourceType.BEDROCK_FLOW_EXECUTION,
      AuditDataResourceType.BEDROCK_PROMPT_VERSION,
      AuditDataResourceType.BEDROCK_SESSION,
      AuditDataResourceType.BEDROCK_TOOL,
      AuditDataResourceType.BEDROCK_AUTOMATED_REASONING_POLICY,
      AuditDataResourceType.BEDROCK_AUTOMATED_REASONING_POLICY_VERSION,
      AuditDataResourceType.BEDROCK_DATA_AUTOMATION_PROJECT,
      AuditDataResourceType.BEDROCK_DATA_AUTOMATION_INVOCATION,
      AuditDataResourceType.BEDROCK_DATA_AUTOMATION_PROFILE,
      AuditDataResourceType.BEDROCK_BLUEPRINT,
      AuditDataResourceType.AGENTCORE_GATEWAY,
      AuditDataResourceType.AGENTCORE_RUNTIME,
      AuditDataResourceType.AGENTCORE_RUNTIME_ENDPOINT,
      AuditDataResourceType.AGENTCORE_MEMORY,
      AuditDataResourceType.AGENTCORE_CODE_INTERPRETER,
      AuditDataResourceType.AGENTCORE_CODE_INTERPRETER_CUSTOM,
      AuditDataResourceType.AGENTCORE_BROWSER,
      AuditDataResourceType.AGENTCORE_BROWSER_CUSTOM,
      AuditDataResourceType.AGENTCORE_WORKLOAD_IDENTITY,
      AuditDataResourceType.AGENTCORE_WORKLOAD_IDENTITY_DIRECTORY,
      AuditDataResourceType.AGENTCORE_TOKEN_VAULT,
      AuditDataResourceType.AGENTCORE_API_KEY_CREDENTIAL_PROVIDER,
      AuditDataResourceType.AGENTCORE_OAUTH2_CREDENTIAL_PROVIDER,
    ];
  }

  /** @param value the CloudTrail `resources.type` value, for example `AWS::Bedrock::KnowledgeBase` */
  private constructor(public readonly value: string) {}

  /** The CloudTrail resource type name. */
  public toString(): string {
    return this.value;
  }
}
