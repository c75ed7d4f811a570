/** The data constructs of the library declare what reaching them gives, for the lethal-trifecta analysis. */
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { CapabilityLabels } from '../../../lib/analysis/capability';
import { CallerIdentity } from '../../../lib/common/caller-identity';
import {
  IdentityCondition,
  KnowledgeRetriever,
  MetadataContract,
  MetadataField,
  RetrievalFilterPolicy,
  SecureKnowledgeBase,
} from '../../../lib/knowledge';
import { IsolatedMemory, MemoryBroker } from '../../../lib/memory';
import { ToolCapability } from '../../../lib/tools/tool-registry';
import { testStack } from '../../rig/synth';

describe('trifecta sources', () => {
  const stack = testStack();
  const pool = new cognito.UserPool(stack, 'Pool');
  const identity = CallerIdentity.cognito({ userPool: pool, clients: [pool.addClient('Client')] });
  const kb = new SecureKnowledgeBase(stack, 'Kb', { metadataContract: MetadataContract.of([MetadataField.string('tenant')]) });
  const retriever = new KnowledgeRetriever(stack, 'Retriever', {
    identity,
    knowledgeBase: kb,
    filterPolicy: new RetrievalFilterPolicy({ identityConditions: [IdentityCondition.claimEquals('tenant', 'custom:tenant')] }),
    unsafeMetadataFilterOnly: true,
  });
  const memory = new IsolatedMemory(stack, 'Memory');
  const broker = new MemoryBroker(stack, 'Broker', { memory, identity });
  const both = [ToolCapability.SENSITIVE_DATA, ToolCapability.UNTRUSTED_CONTENT];

  test('a knowledge base and a memory hold sensitive data and untrusted content unless labelled', () => {
    expect(CapabilityLabels.effective(kb)).toEqual(both);
    expect(CapabilityLabels.effective(memory)).toEqual(both);
  });

  test('the retriever and the broker give what their stores give', () => {
    expect(retriever.trifectaCapabilities()).toEqual(both);
    expect(broker.trifectaCapabilities()).toEqual(both);
  });

  test('an explicit label on the store changes what its retriever gives', () => {
    const s = testStack();
    const publicKb = new SecureKnowledgeBase(s, 'PublicKb', { metadataContract: MetadataContract.of([MetadataField.string('tenant')]) });
    CapabilityLabels.label(publicKb, [ToolCapability.UNTRUSTED_CONTENT]);
    const p = new cognito.UserPool(s, 'Pool');
    const r = new KnowledgeRetriever(s, 'Retriever', {
      identity: CallerIdentity.cognito({ userPool: p, clients: [p.addClient('C')] }),
      knowledgeBase: publicKb,
      filterPolicy: new RetrievalFilterPolicy({ identityConditions: [IdentityCondition.claimEquals('tenant', 'custom:tenant')] }),
      unsafeMetadataFilterOnly: true,
    });
    expect(r.trifectaCapabilities()).toEqual([ToolCapability.UNTRUSTED_CONTENT]);
  });
});
