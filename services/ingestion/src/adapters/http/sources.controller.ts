// REST under /v1: data sources, ingestion (upload, import), dataset versions and their data,
// ingestion progress. The feature store codes against these routes: keep them stable. Errors
// become `{ error, code, details }` through the host's HTTP error filter.
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { NotFoundError, ValidationError } from '@loopline/errors';
import { SERVICE_LOGGER } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { formatOfName, IngestionApplication, parseFormat } from '../../application/ingestion-application';
import type { ArtifactStore } from '../../application/ports';
import type { InputFormat } from '../../domain/source/data-source';
import { ARTIFACT_STORE } from '../tokens';
import {
  errorSchema,
  importBodySchema,
  progressSchema,
  resultSchema,
  sourceBodySchema,
  sourceSchema,
  versionListSchema,
  versionSchema,
} from './openapi-schemas';
import { presentResult, presentSource, presentVersion } from './presenters';
import { actorHeader, requestContextFrom } from './request-context';
import { importBody, parseBody, sourceBody, toDefinitionInput } from './request-schemas';

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

export const ingestionIdHeader = 'x-loopline-ingestion-id';

/** Content types that name a format, for raw uploads without `?format=`. */
const formatOfContentType: Readonly<Record<string, InputFormat>> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
};

function header(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

@ApiTags('sources')
@ApiHeader({ name: actorHeader, required: false, description: 'who acts, e.g. user:alice; "anonymous" when absent' })
@Controller('v1')
export class SourcesController {
  constructor(
    @Inject(IngestionApplication) private readonly ingestion: IngestionApplication,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  @Put('sources/:source')
  @ApiOperation({
    summary: 'Create a data source or change its schema and validation policy',
    description: 'A change makes a new schema version (201 when the source is new); sending the current definition again changes nothing (200, changed: false).',
  })
  @ApiBody({ schema: sourceBodySchema })
  @ApiResponse({ status: 200, schema: sourceSchema })
  @ApiResponse({ status: 201, schema: sourceSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  async putSource(@Param('source') source: string, @Body() body: unknown, @Headers() headers: RequestHeaders, @Res({ passthrough: true }) reply: FastifyReply) {
    const input = toDefinitionInput(parseBody(sourceBody, body));
    const { source: view, changed } = await this.ingestion.putSource(source, input, requestContextFrom(headers));
    reply.status(changed && view.schemaVersion === 1 ? 201 : 200);
    return { ...presentSource(view), changed };
  }

  @Get('sources/:source')
  @ApiOperation({ summary: 'Read a data source: schema, policy, latest accepted version' })
  @ApiResponse({ status: 200, schema: sourceSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async getSource(@Param('source') source: string) {
    return presentSource(await this.ingestion.getSource(source));
  }

  @Post('sources/:source/uploads')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Ingest a file: CSV (with a header row), JSON Lines or Parquet',
    description:
      'The body is the raw file (any content type), or multipart/form-data with the file in a part. It is streamed to disk, never held in memory. ' +
      'Format: ?format=, else the content type (text/csv, application/x-ndjson, application/vnd.apache.parquet), else the multipart file name. ' +
      'Progress: GET /v1/ingestions/{ingestionId} (send your own id in x-loopline-ingestion-id to poll while uploading). ' +
      'Answers 201 with status CREATED (a new version), REJECTED (validation failed; the report says why) or UNCHANGED (the same data as an existing version). ' +
      '400 when the file cannot be read as the schema: unknown format, corrupt file, malformed row (its number), a declared column missing.',
  })
  @ApiConsumes('application/octet-stream', 'text/csv', 'application/x-ndjson', 'application/vnd.apache.parquet', 'multipart/form-data')
  @ApiQuery({ name: 'format', required: false, enum: ['csv', 'jsonl', 'parquet'] })
  @ApiHeader({ name: ingestionIdHeader, required: false, description: 'your id for this ingestion, to follow its progress' })
  @ApiResponse({ status: 201, schema: resultSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  @ApiResponse({ status: 404, description: 'unknown source', schema: errorSchema })
  async upload(@Param('source') source: string, @Query('format') formatParam: string | undefined, @Req() request: FastifyRequest, @Headers() headers: RequestHeaders) {
    const context = requestContextFrom(headers);
    const tracker = this.ingestion.beginIngestion(source, header(headers, ingestionIdHeader));
    let format: InputFormat;
    let body: NodeJS.ReadableStream;
    try {
      if (request.isMultipart()) {
        const part = await request.file();
        if (!part) throw new ValidationError('the multipart upload has no file part', { field: 'body' });
        format = formatParam !== undefined ? parseFormat(formatParam) : formatFromPart(part);
        body = part.file;
      } else {
        const contentType = header(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
        if (formatParam !== undefined) format = parseFormat(formatParam);
        else if (contentType && formatOfContentType[contentType]) format = formatOfContentType[contentType];
        else throw new ValidationError('unknown format: give ?format=csv|jsonl|parquet (or a content type that names one)', { field: 'format', allowed: ['csv', 'jsonl', 'parquet'] });
        body = isReadable(request.body) ? request.body : request.raw;
      }
    } catch (error) {
      tracker.failed(error);
      throw error;
    }
    const result = await this.ingestion.ingestStream({ source, format, body, tracker }, context);
    return presentResult(result);
  }

  @Post('sources/:source/imports')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Ingest a file the service reads itself: a path inside an import folder, or an s3:// URI of an allowed bucket',
    description: 'Same answers as an upload. Paths outside the import folders (after resolving links), with ".." segments or glob characters are refused with 400.',
  })
  @ApiBody({ schema: importBodySchema })
  @ApiHeader({ name: ingestionIdHeader, required: false })
  @ApiResponse({ status: 201, schema: resultSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async import(@Param('source') source: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const parsed = parseBody(importBody, body);
    const tracker = this.ingestion.beginIngestion(source, header(headers, ingestionIdHeader));
    const result = await this.ingestion.importFile(
      { source, path: parsed.path, uri: parsed.uri, format: parsed.format !== undefined ? parseFormat(parsed.format) : undefined, tracker },
      requestContextFrom(headers),
    );
    return presentResult(result);
  }

  @Get('sources/:source/versions')
  @ApiOperation({ summary: 'List the dataset versions of a source (accepted and rejected), newest first' })
  @ApiQuery({ name: 'status', required: false, enum: ['CREATED', 'REJECTED'] })
  @ApiResponse({ status: 200, schema: versionListSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async listVersions(@Param('source') source: string, @Query('status') status: string | undefined) {
    if (status !== undefined && status !== 'CREATED' && status !== 'REJECTED') {
      throw new ValidationError('status must be CREATED or REJECTED', { field: 'status' });
    }
    const versions = await this.ingestion.listVersions(source);
    return { versions: versions.filter((version) => status === undefined || version.status === status).map(presentVersion) };
  }

  @Get('sources/:source/versions/:versionId')
  @ApiOperation({ summary: 'Read a dataset version with its validation report ("latest" = the latest accepted one)' })
  @ApiResponse({ status: 200, schema: versionSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async getVersion(@Param('source') source: string, @Param('versionId') versionId: string) {
    return presentVersion(await this.ingestion.getVersion(source, await this.resolveVersionId(source, versionId)));
  }

  @Get('sources/:source/versions/:versionId/data')
  @ApiOperation({
    summary: "Download a dataset version's Parquet file",
    description: 'Checked against its SHA-256 while streaming (header x-loopline-sha256); a damaged blob is cut off before its last byte.',
  })
  @ApiProduces('application/vnd.apache.parquet')
  @ApiResponse({ status: 200, description: 'the Parquet bytes' })
  @ApiResponse({ status: 404, schema: errorSchema })
  async data(@Param('source') source: string, @Param('versionId') versionId: string, @Res() reply: FastifyReply) {
    const version = await this.ingestion.getVersion(source, await this.resolveVersionId(source, versionId));
    const stream = await this.artifacts.read(version.artifact);
    stream.once('error', (error) => this.logger.error({ err: error, source, versionId: version.versionId }, 'dataset download cut off'));
    return reply
      .status(200)
      .header('content-type', 'application/vnd.apache.parquet')
      .header('content-length', String(version.artifact.sizeBytes))
      .header('x-loopline-sha256', version.artifact.sha256)
      .header('content-disposition', `attachment; filename="${source}-${version.versionId.slice(0, 12)}.parquet"`)
      .send(stream);
  }

  @Get('sources/:source/ingestions')
  @ApiOperation({ summary: "The source's recent ingestions in this process, with their progress, newest first" })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { ingestions: { type: 'array', items: progressSchema } } } })
  async ingestionsOf(@Param('source') source: string) {
    await this.ingestion.getSource(source);
    return { ingestions: this.ingestion.progress.ofSource(source) };
  }

  @Get('ingestions/:ingestionId')
  @ApiOperation({ summary: "An ingestion's progress: phase (queued, receiving, parsing, profiling, writing, storing, recording, done, failed), bytes, rows" })
  @ApiResponse({ status: 200, schema: progressSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  progress(@Param('ingestionId') ingestionId: string) {
    const view = this.ingestion.progress.get(ingestionId);
    if (!view) throw new NotFoundError(`no ingestion "${ingestionId}" in this process`, { ingestionId });
    return view;
  }

  @Get('ingestions/:ingestionId/events')
  @ApiOperation({ summary: "An ingestion's progress as server-sent events, one per change, until it is done or failed" })
  @ApiProduces('text/event-stream')
  async progressEvents(@Param('ingestionId') ingestionId: string, @Res() reply: FastifyReply) {
    if (!this.ingestion.progress.get(ingestionId)) throw new NotFoundError(`no ingestion "${ingestionId}" in this process`, { ingestionId });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let last = '';
    const timer = setInterval(() => {
      const view = this.ingestion.progress.get(ingestionId);
      if (!view) return finish();
      const text = JSON.stringify(view);
      if (text !== last) {
        last = text;
        raw.write(`event: progress\ndata: ${text}\n\n`);
      }
      if (view.phase === 'done' || view.phase === 'failed') finish();
    }, 200);
    const finish = () => {
      clearInterval(timer);
      raw.end();
    };
    raw.on('close', () => clearInterval(timer));
  }

  private async resolveVersionId(source: string, versionId: string): Promise<string> {
    if (versionId !== 'latest') return versionId;
    const latest = (await this.ingestion.getSource(source)).latestVersionId;
    if (!latest) throw new NotFoundError(`source "${source}" has no accepted version yet`, { source });
    return latest;
  }
}

function formatFromPart(part: MultipartFile): InputFormat {
  const fieldFormat = part.fields.format;
  if (fieldFormat && !Array.isArray(fieldFormat) && fieldFormat.type === 'field') return parseFormat(String(fieldFormat.value));
  const byType = formatOfContentType[part.mimetype?.toLowerCase() ?? ''];
  if (byType) return byType;
  if (part.filename) return formatOfName(part.filename);
  throw new ValidationError('unknown format: give ?format=csv|jsonl|parquet, a "format" field before the file, or a file name with an extension', { field: 'format' });
}

function isReadable(value: unknown): value is NodeJS.ReadableStream {
  return typeof value === 'object' && value !== null && typeof (value as NodeJS.ReadableStream).pipe === 'function';
}
