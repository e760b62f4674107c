import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ModelLoadFailedSchema, ModelLoadFailureReason } from '@loopline/contracts';
import { contractMessage, type EventProducer } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import { randomUUID } from 'node:crypto';
import type { ModelLoadFailure, ModelLoadListener } from '../../application/model-manager';
import type { LoadFailureReason } from '../../application/serving-error';

export const modelLoadsTopic = 'loopline.serving.model-loads.v1';

const reasons: Record<LoadFailureReason, ModelLoadFailureReason> = {
  ARTIFACT_NOT_FOUND: ModelLoadFailureReason.ARTIFACT_NOT_FOUND,
  CHECKSUM_MISMATCH: ModelLoadFailureReason.CHECKSUM_MISMATCH,
  INVALID_MODEL: ModelLoadFailureReason.INVALID_MODEL,
  SIGNATURE_MISMATCH: ModelLoadFailureReason.SIGNATURE_MISMATCH,
  WARMUP_FAILED: ModelLoadFailureReason.WARMUP_FAILED,
};

export interface ModelLoadEventsOptions {
  /** Absent when Kafka is not configured: failures are only logged and counted. */
  readonly producer: EventProducer | undefined;
  readonly logger: Logger;
  readonly source: string;
  readonly instanceId: string;
  readonly onFailed: (reason: LoadFailureReason) => void;
  readonly onLoaded: (durationMs: number) => void;
}

/**
 * Reports load outcomes: a failed load becomes a `ModelLoadFailed` event on
 * `loopline.serving.model-loads.v1` (key: model name), sent in the background (a load never waits
 * on Kafka; a send that fails is logged — the failure is in the service log and metrics as well).
 */
export class ModelLoadEvents implements ModelLoadListener {
  constructor(private readonly options: ModelLoadEventsOptions) {}

  loaded(_modelName: string, _version: number, _alias: string, durationMs: number): void {
    this.options.onLoaded(durationMs);
  }

  loadFailed(failure: ModelLoadFailure): void {
    this.options.onFailed(failure.reason);
    const producer = this.options.producer;
    if (!producer) return;
    const message = contractMessage({
      topic: modelLoadsTopic,
      key: failure.modelName,
      id: randomUUID(),
      source: this.options.source,
      time: failure.failedAt,
      subject: `${failure.modelName}/${failure.version}`,
      message: create(ModelLoadFailedSchema, {
        modelName: failure.modelName,
        modelVersion: failure.version,
        alias: failure.alias,
        artifactUri: failure.artifactUri,
        artifactSha256: failure.artifactSha256,
        reason: reasons[failure.reason],
        message: failure.message,
        instanceId: this.options.instanceId,
        servingModelVersion: failure.servingVersion,
        failedAt: timestampFromMs(failure.failedAt.getTime()),
      }),
    });
    producer.publish([message]).catch((error: unknown) => {
      this.options.logger.error({ err: error, model: failure.modelName, version: failure.version }, 'could not publish ModelLoadFailed');
    });
  }
}
