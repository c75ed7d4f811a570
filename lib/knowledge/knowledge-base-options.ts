import { Stack } from 'aws-cdk-lib';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import { Construct } from 'constructs';
import { throwIfInvalid, validateInteger, validatePattern } from '../private/validation';

/** A Bedrock embedding model for a knowledge base, with the vector dimension its index must have. */
export class EmbeddingModel {
  /** Amazon Titan Text Embeddings V2 with 256, 512 or 1024 dimensions. */
  public static titanTextV2(dimensions: number = 1024): EmbeddingModel {
    throwIfInvalid('EmbeddingModel.titanTextV2', [256, 512, 1024].includes(dimensions) ? [] : [`dimensions is ${dimensions}; allowed: 256, 512 or 1024`]);
    return new EmbeddingModel('amazon.titan-embed-text-v2:0', dimensions, true);
  }

  /** Cohere Embed English v3 (1024 dimensions). */
  public static cohereEmbedEnglishV3(): EmbeddingModel {
    return new EmbeddingModel('cohere.embed-english-v3', 1024, false);
  }

  /** Cohere Embed Multilingual v3 (1024 dimensions). */
  public static cohereEmbedMultilingualV3(): EmbeddingModel {
    return new EmbeddingModel('cohere.embed-multilingual-v3', 1024, false);
  }

  /** Any other foundation model id with its fixed dimension (1 to 4096). */
  public static of(modelId: string, dimensions: number): EmbeddingModel {
    throwIfInvalid('EmbeddingModel.of', [
      ...validatePattern('modelId', modelId, /^[a-z0-9-]{1,63}\.[a-z0-9.:-]{1,127}$/, 'a Bedrock foundation model id such as amazon.titan-embed-text-v2:0'),
      ...validateInteger('dimensions', dimensions, 1, 4096),
    ]);
    return new EmbeddingModel(modelId, dimensions, false);
  }

  private constructor(
    /** The foundation model id. */
    public readonly modelId: string,
    /** The vector dimension. */
    public readonly dimensions: number,
    private readonly configurableDimensions: boolean,
  ) {}

  /** The model's ARN in the stack's region. */
  public modelArn(scope: Construct): string {
    const stack = Stack.of(scope);
    return `arn:${stack.partition}:bedrock:${stack.region}::foundation-model/${this.modelId}`;
  }

  /** @internal */
  public _configuration(): bedrock.CfnKnowledgeBase.EmbeddingModelConfigurationProperty | undefined {
    // Only models with a configurable dimension accept the setting; others fail at deploy time if it is set.
    return this.configurableDimensions ? { bedrockEmbeddingModelConfiguration: { dimensions: this.dimensions, embeddingDataType: 'FLOAT32' } } : undefined;
  }
}

/** How documents are split into chunks before embedding. */
export class ChunkingStrategy {
  /** Fixed-size chunks: `maxTokens` (20 to 8192) with `overlapPercentage` (1 to 99) between neighbours. */
  public static fixedSize(maxTokens: number = 300, overlapPercentage: number = 20): ChunkingStrategy {
    throwIfInvalid('ChunkingStrategy.fixedSize', [...validateInteger('maxTokens', maxTokens, 20, 8192), ...validateInteger('overlapPercentage', overlapPercentage, 1, 99)]);
    return new ChunkingStrategy({ chunkingStrategy: 'FIXED_SIZE', fixedSizeChunkingConfiguration: { maxTokens, overlapPercentage } });
  }

  /** Semantic chunks of at most `maxTokens`, splitting where meaning changes. */
  public static semantic(maxTokens: number = 300, bufferSize: number = 0, breakpointPercentileThreshold: number = 95): ChunkingStrategy {
    throwIfInvalid('ChunkingStrategy.semantic', [
      ...validateInteger('maxTokens', maxTokens, 20, 8192),
      ...validateInteger('bufferSize', bufferSize, 0, 1),
      ...validateInteger('breakpointPercentileThreshold', breakpointPercentileThreshold, 50, 99),
    ]);
    return new ChunkingStrategy({ chunkingStrategy: 'SEMANTIC', semanticChunkingConfiguration: { maxTokens, bufferSize, breakpointPercentileThreshold } });
  }

  /** Hierarchical chunks: parents of `parentMaxTokens`, children of `childMaxTokens` (smaller), `overlapTokens` overlap. */
  public static hierarchical(parentMaxTokens: number = 1500, childMaxTokens: number = 300, overlapTokens: number = 60): ChunkingStrategy {
    throwIfInvalid('ChunkingStrategy.hierarchical', [
      ...validateInteger('parentMaxTokens', parentMaxTokens, 1, 8192),
      ...validateInteger('childMaxTokens', childMaxTokens, 1, 8192),
      ...validateInteger('overlapTokens', overlapTokens, 1, 8192),
      ...(childMaxTokens >= parentMaxTokens ? [`childMaxTokens is ${childMaxTokens}; allowed: fewer than parentMaxTokens (${parentMaxTokens})`] : []),
    ]);
    return new ChunkingStrategy({
      chunkingStrategy: 'HIERARCHICAL',
      hierarchicalChunkingConfiguration: { levelConfigurations: [{ maxTokens: parentMaxTokens }, { maxTokens: childMaxTokens }], overlapTokens },
    });
  }

  private constructor(private readonly configuration: bedrock.CfnDataSource.ChunkingConfigurationProperty) {}

  /** @internal */
  public _render(): bedrock.CfnDataSource.ChunkingConfigurationProperty {
    return this.configuration;
  }
}

/** Distance metric of the vector index. */
export enum VectorDistanceMetric {
  /** Cosine similarity (the usual choice for text embeddings). */
  COSINE = 'cosine',
  /** Euclidean distance. */
  EUCLIDEAN = 'euclidean',
}
