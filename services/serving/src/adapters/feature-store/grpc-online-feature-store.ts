import { join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoRoot } from '@loopline/contracts';
import { UnavailableError, ValidationError } from '@loopline/errors';
import type { OnlineStatus, OnlineValue, ScalarValue } from '../../domain/features/feature-binding';
import type { OnlineFeatureStore } from '../../application/ports';

/** `FeatureVector` as proto-loader hands it over (enums as names, 64-bit integers as numbers). */
interface VectorMessage {
  readonly valueType: string;
  readonly doubleValues: number[];
  readonly int64Values: number[];
  readonly stringValues: string[];
  readonly boolValues: boolean[];
  readonly statuses: string[];
}

interface ResponseMessage {
  readonly featureNames: string[];
  readonly results: VectorMessage[];
}

type GetOnlineFeatures = (request: unknown, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: ResponseMessage) => void) => void;

const statuses: Record<string, OnlineStatus> = {
  FIELD_STATUS_PRESENT: 'present',
  FIELD_STATUS_NULL_VALUE: 'null_value',
  FIELD_STATUS_NOT_FOUND: 'not_found',
  FIELD_STATUS_OUTSIDE_TTL: 'outside_ttl',
};

/**
 * The feature store's `loopline.featurestore.v1.FeatureServingService/GetOnlineFeatures` as the
 * serving service's `OnlineFeatureStore`: one long-lived channel, a deadline per call, the
 * column-major answer turned into one value per feature. INVALID_ARGUMENT (unknown feature
 * service, a join key missing…) becomes a `ValidationError` with the feature store's message;
 * anything else means the store is unreachable or failing: `UnavailableError`.
 */
export class GrpcOnlineFeatureStore implements OnlineFeatureStore {
  private readonly client: Client & { GetOnlineFeatures: GetOnlineFeatures };

  constructor(private readonly address: string) {
    const definition = loadSync(join(protoRoot, 'loopline/featurestore/v1/feature_serving.proto'), {
      includeDirs: [protoRoot],
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = loadPackageDefinition(definition) as unknown as {
      loopline: { featurestore: { v1: { FeatureServingService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & { GetOnlineFeatures: GetOnlineFeatures } } } };
    };
    this.client = new loaded.loopline.featurestore.v1.FeatureServingService(address, credentials.createInsecure());
  }

  getOnlineFeatures(query: { readonly featureService: string } | { readonly references: readonly string[] }, entities: Readonly<Record<string, string>>, deadline: number): Promise<OnlineValue[]> {
    const request = {
      ...('featureService' in query ? { featureService: query.featureService } : { features: { references: [...query.references] } }),
      entities: Object.fromEntries(Object.entries(entities).map(([key, value]) => [key, { values: [value] }])),
    };
    return new Promise((resolve, reject) => {
      this.client.GetOnlineFeatures(request, new Metadata(), { deadline }, (error, response) => {
        if (error) return reject(this.failure(error));
        try {
          resolve(valuesOf(response));
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }

  close(): void {
    this.client.close();
  }

  private failure(error: ServiceError): Error {
    if (error.code === status.INVALID_ARGUMENT) return new ValidationError(`the feature store refused the lookup: ${error.details}`, { featureStore: error.details });
    if (error.code === status.DEADLINE_EXCEEDED) return new UnavailableError(`the feature store (${this.address}) did not answer the online lookup in time`);
    return new UnavailableError(`the feature store (${this.address}) failed the online lookup: ${error.details || error.message}`);
  }
}

function valuesOf(response: ResponseMessage): OnlineValue[] {
  return response.featureNames.map((name, index) => {
    const vector = response.results[index];
    if (!vector) throw new UnavailableError(`the feature store answered no values for feature ${name}`);
    const status = statuses[vector.statuses[0] ?? ''] ?? 'not_found';
    return { name, status, value: status === 'present' ? valueOf(vector) : null };
  });
}

function valueOf(vector: VectorMessage): ScalarValue | null {
  switch (vector.valueType) {
    case 'FEATURE_VALUE_TYPE_DOUBLE':
      return vector.doubleValues[0] ?? null;
    case 'FEATURE_VALUE_TYPE_INT64':
      return vector.int64Values[0] ?? null;
    case 'FEATURE_VALUE_TYPE_BOOL':
      return vector.boolValues[0] ?? null;
    default:
      // STRING, and TIMESTAMP as RFC 3339 text.
      return vector.stringValues[0] ?? null;
  }
}
