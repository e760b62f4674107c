// The pipeline steps ingestion executes (docs/adr/0008-orchestration.md, "Executors"), as handlers
// of the shared task executor (`startTaskExecution` of @loopline/messaging), which deduplicates
// on the idempotency key, honours timeouts and answers TaskCompleted / TaskFailed:
//
// - `ingest {sourceName, uri?, format?}` → `{datasetVersionId, rowCount, created}`: imports the
//   file at `uri` (an absolute path inside an import folder, `file://…`, or `s3://bucket/key`),
//   else at the source's `defaultUri`. Content-addressed, so running it again (a claim taken over
//   after a crash) gives the same version. A version rejected by validation is still the step's
//   output (`validate` then reports `passed: false`), as pipelines gate on `validate`.
// - `validate {datasetVersionId, failOnWarnings?}` → `{passed, datasetVersionId, report}` from the
//   version's stored validation report: passed when the version was accepted (no error anomaly)
//   and, with `failOnWarnings`, has no warning either.
//
// Error codes (TaskFailed.error.code): SOURCE_NOT_FOUND, NO_DATA_LOCATION,
// DATASET_VERSION_NOT_FOUND and INVALID_REQUEST (bad inputs, unreadable data) are not retryable;
// DATA_NOT_FOUND (no file at the location yet) and UNAVAILABLE (database, artifact store) are.
import { fileURLToPath } from 'node:url';
import { NotFoundError, ValidationError } from '@loopline/errors';
import { TaskFailure, type ExecutableTask, type TaskProgress } from '@loopline/messaging';
import type { InputFormat } from '../domain/source/data-source';
import { parseFormat, type IngestionApplication, type IngestionResult, type SourceView } from './ingestion-application';
import type { IngestionProgressView } from './ingestion-progress';

/** Finds which sources hold a dataset version (its id is a content hash, not tied to a source). */
export interface VersionLocator {
  sourcesOfVersion(versionId: string): Promise<string[]>;
}

export interface PipelineTaskDeps {
  readonly ingestion: IngestionApplication;
  readonly versions: VersionLocator;
}

export type TaskOutputs = Record<string, unknown>;

export class PipelineTasks {
  /** Log lines for the tasks' running ingestions, by ingestion id. */
  private readonly watched = new Map<string, TaskProgress>();

  constructor(private readonly deps: PipelineTaskDeps) {
    deps.ingestion.progress.onChange((view, change) => {
      const progress = this.watched.get(view.ingestionId);
      if (progress && change !== 'bytes') progress.log(describeProgress(view));
    });
  }

  handlers(): { readonly ingest: (task: ExecutableTask, progress: TaskProgress) => Promise<TaskOutputs>; readonly validate: (task: ExecutableTask, progress: TaskProgress) => Promise<TaskOutputs> } {
    return { ingest: (task, progress) => this.ingest(task, progress), validate: (task, progress) => this.validate(task, progress) };
  }

  async ingest(task: ExecutableTask, progress: TaskProgress): Promise<TaskOutputs> {
    const sourceName = requiredString(task.params, 'sourceName');
    const givenUri = optionalString(task.params, 'uri');
    const givenFormat = optionalString(task.params, 'format');
    const format: InputFormat | undefined = givenFormat !== undefined ? parseFormat(givenFormat, 'format') : undefined;
    const source = await this.source(sourceName);
    const uri = givenUri ?? source.definition.defaultUri;
    if (uri === undefined) {
      throw new TaskFailure(
        'NO_DATA_LOCATION',
        `the ingest step gives no "uri" and source "${sourceName}" has no defaultUri: give the step a uri, or set "defaultUri" on the source (PUT /v1/sources/${sourceName})`,
        { retryable: false },
      );
    }
    const location = locationOf(uri);
    progress.log(`importing ${'uri' in location ? location.uri : location.path} into source "${sourceName}"${givenUri === undefined ? ' (the source\'s defaultUri)' : ''}`);
    const tracker = this.deps.ingestion.beginIngestion(sourceName);
    this.watched.set(tracker.id, progress);
    let result: IngestionResult;
    try {
      result = await this.deps.ingestion.importFile({ source: sourceName, ...location, format, tracker }, { actor: `pipeline:${task.pipelineName || task.runId}`, correlationId: task.runId });
    } catch (error) {
      if (error instanceof NotFoundError) throw new TaskFailure('DATA_NOT_FOUND', error.message, { retryable: true, cause: error });
      throw error;
    } finally {
      this.watched.delete(tracker.id);
    }
    // A version this ingestion recorded (accepted or rejected) is new; UNCHANGED, or a rejected
    // version recorded before, is not.
    const created = result.status === 'CREATED' || (result.status === 'REJECTED' && result.version.origin.ingestionId === tracker.id);
    progress.log(
      `${result.status}: dataset version ${result.versionId} (${result.rowCount} rows; ${result.report.errorCount} errors, ${result.report.warningCount} warnings)`,
    );
    return { datasetVersionId: result.versionId, rowCount: result.rowCount, created };
  }

  async validate(task: ExecutableTask, progress: TaskProgress): Promise<TaskOutputs> {
    const datasetVersionId = requiredString(task.params, 'datasetVersionId');
    if (!/^[0-9a-f]{64}$/.test(datasetVersionId)) {
      throw new ValidationError(`datasetVersionId ${JSON.stringify(datasetVersionId)} is not a dataset version id (64 lowercase hex digits)`, { field: 'datasetVersionId' });
    }
    const failOnWarnings = optionalBoolean(task.params, 'failOnWarnings') ?? false;
    const sources = await this.deps.versions.sourcesOfVersion(datasetVersionId);
    if (sources.length === 0) throw new TaskFailure('DATASET_VERSION_NOT_FOUND', `no source has dataset version ${datasetVersionId}`, { retryable: false });
    // The same bytes in two sources (same schema, same data) is the same version id; the most recently recorded wins.
    const version = await this.deps.ingestion.getVersion(sources[0]!, datasetVersionId);
    const { report } = version;
    const passed = version.status === 'CREATED' && report.errorCount === 0 && (!failOnWarnings || report.warningCount === 0);
    progress.log(
      `dataset version ${datasetVersionId} of source "${version.source}": ${version.status}, ${report.errorCount} errors, ${report.warningCount} warnings → ${passed ? 'passed' : 'not passed'}${failOnWarnings ? ' (warnings fail)' : ''}`,
    );
    for (const anomaly of report.anomalies.slice(0, 50)) progress.log(`  ${anomaly.severity} ${anomaly.kind}${anomaly.column ? ` ${anomaly.column}` : ''}: ${anomaly.description}`);
    const json = JSON.parse(JSON.stringify({ ...report, source: version.source, status: version.status, rowCount: version.rowCount })) as Record<string, unknown>;
    return { passed, datasetVersionId, report: json };
  }

  private async source(name: string): Promise<SourceView> {
    try {
      return await this.deps.ingestion.getSource(name);
    } catch (error) {
      if (error instanceof NotFoundError) throw new TaskFailure('SOURCE_NOT_FOUND', error.message, { retryable: false, cause: error });
      throw error;
    }
  }
}

function locationOf(uri: string): { readonly path: string } | { readonly uri: string } {
  if (uri.startsWith('s3://')) return { uri };
  if (uri.startsWith('file://')) {
    try {
      return { path: fileURLToPath(uri) };
    } catch {
      throw new ValidationError(`uri ${JSON.stringify(uri)} is not a valid file:// URL`, { field: 'uri' });
    }
  }
  if (uri.startsWith('/')) return { path: uri };
  throw new ValidationError(`uri ${JSON.stringify(uri)} must be an absolute path, a file:// URL or s3://bucket/key`, { field: 'uri' });
}

function describeProgress(view: IngestionProgressView): string {
  const rows = view.rowCount !== null ? `, ${view.rowCount} rows` : '';
  return `${view.phase}${rows} (${Math.round(view.bytesReceived / 1024)} KiB read, ${view.elapsedMs} ms)`;
}

function requiredString(params: Readonly<Record<string, unknown>>, field: string): string {
  const value = params[field];
  if (typeof value !== 'string' || value === '') throw new ValidationError(`input "${field}" is required: a non-empty string`, { field });
  return value;
}

/** A string input; an empty string (an unset pipeline parameter) counts as absent. */
function optionalString(params: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = params[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ValidationError(`input "${field}" must be a string, not ${JSON.stringify(value)}`, { field });
  return value;
}

function optionalBoolean(params: Readonly<Record<string, unknown>>, field: string): boolean | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(`input "${field}" must be true or false, not ${JSON.stringify(value)}`, { field });
  return value;
}
