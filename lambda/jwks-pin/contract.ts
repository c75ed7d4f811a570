/**
 * The contract between the `JwksPin` construct (lib/common/jwks-pin.ts) and the jwks-pin handler: environment
 * variable names, custom resource property and attribute names, the drift event, the metric, and the limits.
 * Changing a name here is a breaking change for deployed stacks and alarms.
 */

/** Environment variables the construct sets on the pin function. */
export const JwksPinEnv = {
  /** The issuer (`iss`) whose keys are pinned, an https URL. */
  ISSUER: 'CAD_JWKS_PIN_ISSUER',
  /** The JWKS URL; when unset the handler reads `jwks_uri` from the issuer's OpenID discovery document. */
  JWKS_URI: 'CAD_JWKS_PIN_JWKS_URI',
} as const;

/** Properties of the `Custom::CdkAiDefenseJwksPin` resource (they must equal the function's environment). */
export const JwksPinProperty = {
  ISSUER: 'Issuer',
  JWKS_URI: 'JwksUri',
  /** Any value; changing it makes CloudFormation call the function again, which fetches and pins the keys anew. */
  REPIN: 'Repin',
} as const;

/** Attributes the custom resource returns (`Fn::GetAtt`). */
export const JwksPinAttribute = {
  /** Canonical JSON (RFC 8785) of the pinned key set: `{"keys":[...]}`, keys sorted by `kid`, public members only. */
  JWKS: 'Jwks',
  /** Lowercase hex SHA-256 of {@link JwksPinAttribute.JWKS}. */
  SHA256: 'Sha256',
  /** Number of pinned keys. */
  KEY_COUNT: 'KeyCount',
} as const;

/** CloudFormation resource type of the pin. */
export const JWKS_PIN_RESOURCE_TYPE = 'Custom::CdkAiDefenseJwksPin';

/** `action` of the scheduled drift-check event (EventBridge rule input). */
export const DRIFT_CHECK_ACTION = 'CHECK_JWKS_DRIFT';

/** The scheduled event: `{ "action": "CHECK_JWKS_DRIFT", "pinnedSha256": "<64 hex>" }`. */
export interface DriftCheckEvent {
  readonly action: typeof DRIFT_CHECK_ACTION;
  readonly pinnedSha256: string;
}

/** The `service` of the handler's log lines and metrics (a dimension of {@link JWKS_DRIFT_METRIC}). */
export const JWKS_PIN_SERVICE = 'jwks-pin';

/**
 * EMF metric (namespace `CdkAiDefense`, dimensions `service` = {@link JWKS_PIN_SERVICE} and {@link JWKS_DRIFT_DIMENSION}
 * = the issuer): 0 when the issuer's current key set equals the pinned one, 1 when it differs, cannot be fetched or
 * fails validation.
 */
export const JWKS_DRIFT_METRIC = 'JwksDrift';

/** Dimension of {@link JWKS_DRIFT_METRIC} that names the issuer. */
export const JWKS_DRIFT_DIMENSION = 'Issuer';

/** Hard limits of the pin. */
export const JWKS_LIMITS = {
  /** Largest JWKS document read, in bytes (reading stops beyond it and the pin fails). */
  maxDocumentBytes: 8_192,
  /** Largest OpenID discovery document read, in bytes. */
  maxDiscoveryBytes: 65_536,
  /** Most keys a JWKS document may hold. */
  maxKeys: 10,
  /**
   * Largest pinned key set (canonical JSON), in bytes. CloudFormation limits a custom resource response to 4,096
   * bytes and Lambda all of a function's environment variables to 4 KB, and the pinned set travels through both.
   */
  maxPinnedBytes: 3_072,
  /** Largest CloudFormation custom resource response body, in bytes (a CloudFormation limit). */
  maxResponseBytes: 4_096,
  /** Smallest RSA modulus accepted, in bits. */
  minRsaBits: 2_048,
  /** Largest RSA modulus accepted, in bits. */
  maxRsaBits: 8_192,
  /** Timeout of one HTTPS request (connect, headers and body), in milliseconds. */
  requestTimeoutMs: 5_000,
  /** Attempts per document (a 5xx, a timeout or a network error is tried once more; nothing else is). */
  attempts: 2,
  /** Deadline of one whole pin or drift check, in milliseconds (well inside the function's 60-second timeout). */
  deadlineMs: 30_000,
} as const;
