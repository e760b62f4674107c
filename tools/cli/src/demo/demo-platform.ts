// What the demo asks of the platform, through each service's public REST API (the same calls a
// user's scripts would make), typed to the fields the demo reads.
import { ServiceClient, segment } from '../service-client';

export interface RunTask {
  readonly taskId: string;
  readonly stepKind: string;
  readonly status: string;
  readonly outputs: Record<string, unknown> | null;
  readonly attempts: readonly { readonly startedAt: string | null; readonly endedAt: string | null; readonly error: { code: string; message: string } | null }[];
}

export interface PipelineRun {
  readonly runId: string;
  readonly status: string;
  readonly trigger: { readonly kind: string; readonly triggerName: string | null; readonly eventId: string | null };
  readonly params: Record<string, unknown>;
  readonly outputs: Record<string, unknown> | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly failedTaskId: string | null;
  readonly tasks: readonly RunTask[];
}

export interface ModelVersion {
  readonly version: number;
  readonly description: string;
  readonly metrics: Record<string, number>;
  readonly params: Record<string, string>;
  readonly lineage: Record<string, unknown>;
  readonly aliases: readonly string[];
  readonly registeredAt: string;
  readonly signature?: { readonly inputs?: readonly { readonly name: string }[] };
}

export interface HistoryEvent {
  readonly type: string;
  readonly time: string;
  readonly actor: string;
  readonly data: { readonly alias?: string; readonly version?: number; readonly reason?: string };
}

export interface Alert {
  readonly alertId: string;
  readonly kind: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly monitorName: string;
  readonly severity: string;
  readonly status: string;
  readonly detectedAt: string;
  readonly evidence: Record<string, unknown>;
}

export interface LivePerformance {
  readonly versions: readonly {
    readonly version: number;
    readonly trafficRole: string;
    readonly predictions: number;
    readonly labelled: number;
    readonly metrics: Record<string, number | null>;
  }[];
}

export interface Prediction {
  readonly predictionId: string;
  readonly modelVersion: number | string;
  readonly trafficRole: string;
}

export const terminalRunStates = new Set(['succeeded', 'failed', 'cancelled']);

export class DemoPlatform {
  readonly ingestion: ServiceClient;
  readonly featureStore: ServiceClient;
  readonly orchestration: ServiceClient;
  readonly registry: ServiceClient;
  readonly serving: ServiceClient;
  readonly monitoring: ServiceClient;

  constructor(env: NodeJS.ProcessEnv) {
    this.ingestion = ServiceClient.of('ingestion', env);
    this.featureStore = ServiceClient.of('feature-store', env);
    this.orchestration = ServiceClient.of('orchestration', env);
    this.registry = ServiceClient.of('registry', env);
    this.serving = ServiceClient.of('serving', env);
    this.monitoring = ServiceClient.of('monitoring', env);
  }

  async defineSource(name: string, definition: unknown): Promise<void> {
    await this.ingestion.request('PUT', `/v1/sources/${segment(name)}`, { body: definition });
  }

  /** Ingests a file the ingestion service reads in place (it must lie in one of its import folders). */
  async importFile(source: string, path: string): Promise<{ versionId: string; status: string; rowCount: number }> {
    return (await this.ingestion.request<{ versionId: string; status: string; rowCount: number }>('POST', `/v1/sources/${segment(source)}/imports`, { body: { path, format: 'parquet' } })).body;
  }

  async applyFeatures(file: string, fileName: string): Promise<void> {
    await this.featureStore.request('POST', '/v1/definitions/apply', { body: { file, fileName } });
  }

  async ensureModel(name: string, policy: unknown): Promise<void> {
    await this.registry.request('POST', '/v1/models', { body: { name, description: 'Will a US domestic flight leave more than 15 minutes late? (loopline demo)' }, accept: [409] });
    await this.registry.request('PUT', `/v1/models/${segment(name)}/promotion-policy`, { body: policy });
  }

  async applyPipeline(yaml: string): Promise<{ version: number }> {
    return (await this.orchestration.request<{ pipeline: { version: number } }>('POST', '/v1/pipelines', { body: { yaml } })).body.pipeline;
  }

  async startRun(pipeline: string, params: Record<string, unknown>): Promise<PipelineRun> {
    return (await this.orchestration.request<PipelineRun>('POST', `/v1/pipelines/${segment(pipeline)}/runs`, { body: { params } })).body;
  }

  async run(runId: string): Promise<PipelineRun> {
    return this.orchestration.get<PipelineRun>(`/v1/runs/${segment(runId)}`);
  }

  async runs(pipeline: string): Promise<PipelineRun[]> {
    return (await this.orchestration.get<{ runs: PipelineRun[] }>('/v1/runs', { pipeline, limit: 100 })).runs;
  }

  async versions(model: string): Promise<ModelVersion[]> {
    return (await this.registry.get<{ versions: ModelVersion[] }>(`/v1/models/${segment(model)}/versions`)).versions;
  }

  async aliasVersion(model: string, alias: string): Promise<number | null> {
    const found = await this.registry.find<{ version: number }>(`/v1/models/${segment(model)}/aliases/${segment(alias)}`);
    return found ? found.version : null;
  }

  async history(model: string): Promise<HistoryEvent[]> {
    return (await this.registry.get<{ events: HistoryEvent[] }>(`/v1/models/${segment(model)}/history`)).events;
  }

  async putMonitor(name: string, monitor: unknown): Promise<void> {
    await this.monitoring.request('PUT', `/v1/monitors/${segment(name)}`, { body: monitor });
  }

  async alerts(model: string): Promise<Alert[]> {
    return (await this.monitoring.get<{ alerts: Alert[] }>('/v1/alerts', { modelName: model, limit: 100 })).alerts;
  }

  async performance(model: string, targetName: string, from?: string): Promise<LivePerformance> {
    return this.monitoring.get<LivePerformance>(`/v1/models/${segment(model)}/performance`, { targetName, from });
  }

  async sendLabels(labels: readonly { predictionId: string; targetName: string; value: number; eventTime: string }[]): Promise<void> {
    if (labels.length > 0) await this.monitoring.request('POST', '/v1/labels', { body: { labels } });
  }

  /** Predict-by-entity: entity keys in, request-time features beside them; 4xx/5xx are returned, not thrown. */
  async predict(model: string, body: unknown): Promise<{ status: number; body: Prediction & { error?: string } }> {
    return this.serving.request<Prediction & { error?: string }>('POST', `/v1/models/${segment(model)}/predict`, { body, accept: [400, 404, 409, 429, 500, 503] });
  }
}
