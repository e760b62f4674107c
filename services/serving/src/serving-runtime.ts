import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { getTopic } from '@loopline/contracts';
import { createEventProducer, createKafkaClient, ensureTopics, type EventProducer, type Subscription } from '@loopline/messaging';
import type { ReadinessMonitor } from '@loopline/service-host';
import type { Logger, ServiceMetrics } from '@loopline/telemetry';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import manifest from '../package.json';
import type { ServingConfig } from './config';
import { needsChallenger } from './domain/traffic/traffic-policy';
import { Admission } from './application/admission';
import { InferenceService, type PredictionRecorder } from './application/inference-service';
import { challengerAlias, championAlias, ModelManager } from './application/model-manager';
import { ModelMetadataQueries, supportedExtensions } from './application/model-metadata';
import { PredictionLog } from './application/prediction-log';
import { TrafficPolicies } from './application/traffic-policies';
import { oipRestPlugin } from './adapters/http/oip-rest';
import { entityPredictionRoutes } from './adapters/http/entity-predictions';
import { GrpcOnlineFeatureStore } from './adapters/feature-store/grpc-online-feature-store';
import { HttpFeatureLineage } from './adapters/feature-store/http-feature-lineage';
import { FeatureJoiner } from './application/feature-joiner';
import { BatchPredictions } from './application/batch/batch-predictions';
import { batchPredictionRoutes } from './adapters/http/batch-predictions';
import { BatchInputs } from './adapters/batch/batch-inputs';
import { ChdbParquetEngine } from './adapters/batch/chdb-parquet-engine';
import { createArtifactStore, LocalArtifactStore, receivedFileOf } from '@loopline/artifacts';
import { ModelLoadEvents, modelLoadsTopic } from './adapters/kafka/model-load-events';
import { KafkaPredictionPublisher, predictionsTopic } from './adapters/kafka/prediction-publisher';
import { followRegistry, modelVersionsTopic } from './adapters/kafka/registry-follower';
import { ServingMetrics } from './adapters/metrics/serving-metrics';
import { OnnxRuntime } from './adapters/onnx/onnx-runtime';
import { RegistryModelSource } from './adapters/registry/registry-model-source';
import { FileSpool } from './adapters/spool/file-spool';

export interface ServingRuntimeInput {
  readonly config: ServingConfig;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly readiness: ReadinessMonitor;
}

const eventSource = '/loopline/serving';
const now = (): number => performance.timeOrigin + performance.now();

/**
 * The composition root of serving: builds the application objects on their adapters and runs
 * their background work (following the registry, the prediction log). Startup never blocks the
 * ports: the initial load runs in the background and readiness says when it is done. Shutdown
 * (after the servers stopped taking requests): stop following, flush or spool the prediction log,
 * release the models.
 */
export class ServingRuntime {
  readonly manager: ModelManager;
  readonly traffic: TrafficPolicies;
  readonly inference: InferenceService;
  readonly metadata: ModelMetadataQueries;
  readonly batch: BatchPredictions;
  private readonly parquet: ChdbParquetEngine;
  private readonly kafka: Kafka | undefined;
  private readonly producer: EventProducer | undefined;
  private readonly logProducer: EventProducer | undefined;
  private readonly predictionLog: PredictionLog | undefined;
  private readonly onlineFeatures: GrpcOnlineFeatureStore;
  private readonly stopping = new AbortController();
  private subscription: Subscription | undefined;
  private background: Promise<void> = Promise.resolve();

  private constructor(
    private readonly input: ServingRuntimeInput,
    parts: {
      kafka: Kafka | undefined;
      producer: EventProducer | undefined;
      logProducer: EventProducer | undefined;
      predictionLog: PredictionLog | undefined;
      metrics: ServingMetrics;
    },
  ) {
    const { config, logger } = input;
    const serving = config.serving;
    const metrics = parts.metrics;
    this.kafka = parts.kafka;
    this.producer = parts.producer;
    this.logProducer = parts.logProducer;
    this.predictionLog = parts.predictionLog;
    this.traffic = new TrafficPolicies(serving.traffic);
    const modelSource = new RegistryModelSource({ baseUrl: serving.registryUrl });
    const onnxRuntime = new OnnxRuntime({ ...serving.runtime, logger: logger.child({ component: 'onnxruntime' }) });
    this.manager = new ModelManager({
      source: modelSource,
      runtime: onnxRuntime,
      listener: new ModelLoadEvents({
        producer: this.producer,
        logger,
        source: eventSource,
        instanceId: serving.instanceId,
        onFailed: (reason) => metrics.modelLoads.inc({ outcome: 'failed', reason }),
        onLoaded: (durationMs) => {
          metrics.modelLoads.inc({ outcome: 'loaded', reason: '' });
          metrics.modelLoadSeconds.observe(durationMs / 1000);
        },
      }),
      logger: logger.child({ component: 'model-manager' }),
      servesModel: (name) => serving.models === '*' || serving.models.includes(name),
      wantsAlias: (name, alias) => alias === championAlias || (alias === challengerAlias && needsChallenger(this.traffic.of(name))),
      batching: serving.batching,
      onExpired: () => metrics.rejected.inc({ reason: 'expired' }),
      onRun: (_jobs, rows) => metrics.batchRows.observe(rows),
      now,
    });
    const admission = new Admission(serving.admission.maxInFlight, () => metrics.rejected.inc({ reason: 'overloaded' }));
    metrics.readers.inFlight = () => admission.current;
    const recorder: PredictionRecorder = this.predictionLog ?? { record: () => undefined };
    // The channel connects lazily: a feature store that is down fails only predict-by-entity, with 503.
    this.onlineFeatures = new GrpcOnlineFeatureStore(serving.featureStore.grpcAddress);
    const entityFeatures = new FeatureJoiner({
      store: this.onlineFeatures,
      lineage: new HttpFeatureLineage({ registryUrl: serving.registryUrl, featureStoreUrl: serving.featureStore.url }),
      logger: logger.child({ component: 'feature-joiner' }),
    });
    this.inference = new InferenceService({
      manager: this.manager,
      admission,
      traffic: this.traffic,
      predictions: recorder,
      logger,
      defaultTimeoutMs: serving.admission.defaultTimeoutMs,
      now,
      random: Math.random,
      newId: randomUUID,
      onShadowSkipped: (reason) => metrics.shadowSkipped.inc({ reason }),
      entityFeatures,
    });
    const artifacts = createArtifactStore(serving.batch.artifactStore, 'serving');
    this.parquet = new ChdbParquetEngine(join(config.dataDir, 'serving', 'chdb'));
    this.batch = new BatchPredictions({
      source: modelSource,
      servedVersion: (name, version) => this.manager.servedVersion(name, version),
      runtime: onnxRuntime,
      inputs: new BatchInputs({
        featureStoreUrl: serving.featureStore.url,
        ingestionUrl: serving.ingestionUrl,
        store: artifacts.store,
        localStore: artifacts.store instanceof LocalArtifactStore ? artifacts.store : undefined,
        uploads: artifacts.uploads,
        maxBytes: serving.batch.maxInputBytes,
      }),
      engine: this.parquet,
      store: {
        temporaryPath: () => artifacts.uploads.temporaryPath(),
        discard: (path) => artifacts.uploads.discard({ path }),
        store: async (path) => artifacts.store.put(await receivedFileOf(path)),
        read: (blob) => artifacts.store.read(blob),
      },
      logger: logger.child({ component: 'batch-predictions' }),
      defaultChunkRows: serving.batch.defaultChunkRows,
      maxChunkRows: 1_000_000,
      maxJobs: 1_000,
      now: Date.now,
      newId: randomUUID,
    });
    this.metadata = new ModelMetadataQueries(this.manager, { name: 'loopline', version: manifest.version, extensions: supportedExtensions });
  }

  static async create(input: ServingRuntimeInput): Promise<ServingRuntime> {
    const { config, logger } = input;
    const metrics = new ServingMetrics(input.metrics.registry);
    const brokers = config.kafkaBrokers;
    if (!brokers || brokers.length === 0) {
      logger.warn('LOOPLINE_KAFKA_BROKERS is not set: serving loads what the registry lists at start, does not follow alias moves and does not log predictions');
      return new ServingRuntime(input, { kafka: undefined, producer: undefined, logProducer: undefined, predictionLog: undefined, metrics });
    }
    const kafka = createKafkaClient({ brokers, clientId: `loopline-serving-${config.serving.instanceId}` }, logger);
    const producer = createEventProducer(kafka, { logger: logger.child({ component: 'model-load-events' }) });
    let predictionLog: PredictionLog | undefined;
    let logProducer: EventProducer | undefined;
    const log = config.serving.predictionLog;
    if (log.enabled) {
      // A client of its own that gives up fast: while Kafka is away predictions go to the spool,
      // and a send stuck in long retries would only hold them in memory.
      const logKafka = createKafkaClient(
        { brokers, clientId: `loopline-serving-log-${config.serving.instanceId}`, connectionTimeoutMs: 1_000, requestTimeoutMs: 10_000, retry: { initialRetryTimeMs: 100, maxRetryTimeMs: 1_000, retries: 2 } },
        logger,
      );
      logProducer = createEventProducer(logKafka, { logger, retries: 2 });
      const spool = await FileSpool.open(join(config.dataDir, 'serving', 'spool'), log.spoolMaxBytes);
      metrics.readers.spoolBytes = () => spool.sizeBytes;
      predictionLog = new PredictionLog({
        publisher: new KafkaPredictionPublisher({ kafka: logKafka, producer: logProducer, logger, source: eventSource }),
        spool,
        logger: logger.child({ component: 'prediction-log' }),
        metrics: {
          published: (count) => metrics.predictionLog.inc({ outcome: 'published' }, count),
          spooled: (count) => metrics.predictionLog.inc({ outcome: 'spooled' }, count),
          replayed: (count) => metrics.predictionLog.inc({ outcome: 'replayed' }, count),
          dropped: (count) => metrics.predictionLog.inc({ outcome: 'dropped' }, count),
        },
        batchSize: log.batchSize,
        flushIntervalMs: log.flushIntervalMs,
        retryIntervalMs: log.retryIntervalMs,
        sendTimeoutMs: log.sendTimeoutMs,
        spoolHeadInDoubt: !spool.isEmpty,
        now: Date.now,
      });
      if (!spool.isEmpty) logger.warn({ spoolBytes: spool.sizeBytes }, 'prediction log: replaying the spool left by an earlier run');
    }
    return new ServingRuntime(input, { kafka, producer, logProducer, predictionLog, metrics });
  }

  /** Registers the Open Inference Protocol REST routes under `/v2` and the readiness check. */
  registerHttp(fastify: FastifyInstance): void {
    const maxBodyBytes = this.input.config.serving.http.maxBodyBytes;
    void fastify.register(oipRestPlugin({ inference: this.inference, metadata: this.metadata, maxBodyBytes }), { prefix: '/v2' });
    void fastify.register(entityPredictionRoutes({ inference: this.inference, maxBodyBytes }), { prefix: '/v1/models' });
    void fastify.register(batchPredictionRoutes(this.batch), { prefix: '/v1/batch-predictions' });
    this.input.readiness.addCheck({
      name: 'models',
      probe: async () => {
        if (!this.manager.ready) throw new Error('the initial model load has not finished');
        const served = this.manager.describe();
        return `${Object.keys(served).length} model(s) served`;
      },
    });
  }

  /** Starts the background work; returns at once. */
  start(): void {
    this.predictionLog?.start();
    this.background = this.follow();
  }

  private async follow(): Promise<void> {
    const { logger, config } = this.input;
    if (this.kafka) {
      await this.connectKafkaPatiently().catch((error: unknown) => {
        logger.warn({ err: error }, 'could not subscribe to registry events yet; serving what the registry lists now and retrying in the background');
        void this.retrySubscription();
      });
    }
    await this.manager.loadInitial(this.stopping.signal);
    if (this.manager.ready) logger.info({ registry: config.serving.registryUrl }, 'serving is ready');
  }

  /** A few quick attempts: right after topics are created their leaders may not be known everywhere yet. */
  private async connectKafkaPatiently(attempts = 5): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connectKafka();
      } catch (error) {
        if (attempt >= attempts || this.stopping.signal.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt).unref());
      }
    }
  }

  private async connectKafka(): Promise<void> {
    const kafka = this.kafka!;
    const groupId = `loopline-serving-${this.input.config.serving.instanceId}-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const spec = (name: string) => ({ topic: name, numPartitions: getTopic(name).partitions, replicationFactor: this.input.config.serving.topicReplicationFactor });
      await ensureTopics(admin, [spec(predictionsTopic), spec(modelLoadsTopic), { ...spec(modelVersionsTopic), withDeadLetterTopic: true }]);
      // The group starts exactly at the topic's end as of now, before the registry is read: a move
      // published after this point is consumed even if it lands before the consumer's first fetch
      // (a fresh group left to "latest" would resolve its position only then, and could skip it).
      const ends = await admin.fetchTopicOffsets(modelVersionsTopic);
      await admin.setOffsets({ groupId, topic: modelVersionsTopic, partitions: ends.map((end) => ({ partition: end.partition, offset: end.high })) });
    } finally {
      await admin.disconnect();
    }
    await this.producer?.connect();
    this.subscription = await followRegistry({
      kafka,
      manager: this.manager,
      logger: this.input.logger.child({ component: 'registry-follower' }),
      groupId,
    });
  }

  private async retrySubscription(): Promise<void> {
    while (!this.stopping.signal.aborted && !this.subscription) {
      await new Promise((resolve) => setTimeout(resolve, 5_000).unref());
      if (this.stopping.signal.aborted) return;
      try {
        await this.connectKafka();
        // Alias moves made while we were not subscribed: read the registry's view again.
        await this.manager.loadInitial(this.stopping.signal);
      } catch (error) {
        this.input.logger.warn({ err: error }, 'still cannot subscribe to registry events; retrying');
      }
    }
  }

  /** After the servers stopped: stop following, flush or spool the prediction log, release models. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.background.catch(() => undefined);
    await this.subscription?.stop().catch((error: unknown) => this.input.logger.warn({ err: error }, 'stopping the registry subscription failed'));
    await this.predictionLog?.stop().catch((error: unknown) => this.input.logger.error({ err: error }, 'stopping the prediction log failed'));
    await this.producer?.disconnect().catch(() => undefined);
    await this.logProducer?.disconnect().catch(() => undefined);
    this.onlineFeatures.close();
    await this.batch.stop();
    this.parquet.close();
    await this.manager.close();
  }
}
