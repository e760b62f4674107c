import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { NotFoundError, ValidationError } from '@loopline/errors';
import { SERVICE_LOGGER } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import type { RegistrySettings } from '../../config';
import { ModelVersionRegistration } from '../../application/model-version-registration';
import type { ArtifactStore, ReceivedFile, UploadArea } from '../../application/ports';
import { RegistryApplication } from '../../application/registry-application';
import { assertModelName } from '../../domain/registered-model/rules';
import { ARTIFACT_STORE, REGISTRY_SETTINGS, UPLOAD_AREA } from '../tokens';
import { contextWithActor, versionParam, type Headers as RequestHeaders } from './http-context';
import {
  changeBodySchema,
  errorSchema,
  evaluateBodySchema,
  evidenceSchema,
  promoteBodySchema,
  promotionSchema,
  uploadSchema,
  versionListSchema,
  versionSchema,
} from './openapi-schemas';
import { presentVersion } from './presenters';
import { actorHeader } from './request-context';
import { changeBody, evaluateBody, parseBody, parseVersionMetadataJson, promoteBody, toVersionMetadata } from './request-schemas';

export const idempotencyHeader = 'idempotency-key';

@ApiTags('versions')
@ApiHeader({ name: actorHeader, required: false, description: 'who acts, e.g. user:alice; "anonymous" when absent' })
@Controller('v1/models/:name/versions')
export class VersionsController {
  constructor(
    @Inject(RegistryApplication) private readonly registry: RegistryApplication,
    @Inject(ModelVersionRegistration) private readonly registration: ModelVersionRegistration,
    @Inject(UPLOAD_AREA) private readonly uploads: UploadArea,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Register a new version (multipart: "artifact" = the .onnx file, "metadata" = JSON)',
    description:
      'The file is streamed to disk while hashed, then loaded in ONNX Runtime in an isolated, time- and memory-bounded process. Refused with 400 and the reason: not ONNX, truncated, a pickle/archive, external data, over the size limit, not loadable. An Idempotency-Key header (or metadata.requestId) makes retries return the first registration.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiBody({ schema: uploadSchema })
  @ApiResponse({ status: 201, schema: versionSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  @ApiResponse({ status: 404, description: 'unknown model', schema: errorSchema })
  async register(@Param('name') name: string, @Req() request: FastifyRequest, @Headers() headers: RequestHeaders) {
    assertModelName(name); // before a single byte of the body is read
    if (!request.isMultipart()) {
      throw new ValidationError('send multipart/form-data with a part "artifact" (the .onnx file) and a part "metadata" (JSON)', { field: 'content-type' });
    }
    const { file, metadataText } = await this.receiveUpload(request);
    try {
      const metadata = parseVersionMetadataJson(metadataText);
      const headerKey = headers[idempotencyHeader];
      const idempotencyKey = (Array.isArray(headerKey) ? headerKey[0] : headerKey) ?? metadata.requestId ?? null;
      const version = await this.registration.register(name, file, toVersionMetadata(metadata), idempotencyKey, contextWithActor(headers, metadata.actor));
      return presentVersion(version);
    } finally {
      await this.uploads.discard(file);
    }
  }

  @Get()
  @ApiOperation({ summary: 'List the versions of a model, oldest first' })
  @ApiResponse({ status: 200, schema: versionListSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async list(@Param('name') name: string) {
    return { versions: (await this.registry.listVersions(name)).map(presentVersion) };
  }

  @Get(':version')
  @ApiOperation({ summary: 'Read a version' })
  @ApiResponse({ status: 200, schema: versionSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async get(@Param('name') name: string, @Param('version') version: string) {
    return presentVersion(await this.registry.getVersion(name, versionParam(version)));
  }

  @Get(':version/artifact')
  @ApiOperation({
    summary: "Download a version's ONNX file",
    description: 'Checked against its SHA-256 while streaming (header x-loopline-sha256); a damaged blob is cut off before its last byte.',
  })
  @ApiProduces('application/octet-stream')
  @ApiResponse({ status: 200, description: 'the ONNX bytes' })
  @ApiResponse({ status: 404, schema: errorSchema })
  async download(@Param('name') name: string, @Param('version') version: string, @Res() reply: FastifyReply) {
    const found = await this.registry.getVersion(name, versionParam(version));
    const stream = await this.artifacts.read(found.artifact);
    stream.once('error', (error) => this.logger.error({ err: error, name, version: found.version, sha256: found.artifact.sha256 }, 'artifact download cut off'));
    return reply
      .status(200)
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(found.artifact.sizeBytes))
      .header('x-loopline-sha256', found.artifact.sha256)
      .header('content-disposition', `attachment; filename="${found.name}-${found.version}.onnx"`)
      .send(stream);
  }

  @Get(':version/reference-profile')
  @ApiOperation({ summary: "Download a version's reference data profile (JSON)" })
  @ApiResponse({ status: 200, description: 'the profile JSON' })
  @ApiResponse({ status: 404, schema: errorSchema })
  async referenceProfile(@Param('name') name: string, @Param('version') version: string, @Res() reply: FastifyReply) {
    const found = await this.registry.getVersion(name, versionParam(version));
    if (found.referenceProfile === null) throw new NotFoundError(`version ${found.version} of "${name}" has no reference profile`, { name, version: found.version });
    const stream = await this.artifacts.read(found.referenceProfile);
    return reply.status(200).header('content-type', 'application/json').header('x-loopline-sha256', found.referenceProfile.sha256).send(stream);
  }

  @Post(':version/archive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Archive a version (refused while it holds an alias)' })
  @ApiBody({ schema: changeBodySchema, required: false })
  @ApiResponse({ status: 200, schema: versionSchema })
  @ApiResponse({ status: 409, description: 'the version holds aliases', schema: errorSchema })
  async archive(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(changeBody, body, 'archive request');
    return presentVersion(await this.registry.archiveVersion(name, versionParam(version), input.reason, contextWithActor(headers, input.actor)));
  }

  @Post(':version/promote')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Promote a version to an alias through the promotion gate',
    description: 'Records the evaluation; moves the alias only if every check passed. 409 with the evidence (every number compared) when refused.',
  })
  @ApiBody({ schema: promoteBodySchema, required: false })
  @ApiResponse({ status: 200, schema: promotionSchema })
  @ApiResponse({ status: 409, description: 'refused by the gate (details.evidence), archived, or no policy', schema: errorSchema })
  async promote(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(promoteBody, body, 'promotion');
    const result = await this.registry.promote(name, versionParam(version), input.alias, input.reason, contextWithActor(headers, input.actor));
    return { name, alias: result.alias, version: result.version, previousVersion: result.previousVersion, promoted: true, evidence: result.evidence };
  }

  @Post(':version/evaluate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Evaluate the promotion gate without recording or moving anything (dry run)' })
  @ApiBody({ schema: evaluateBodySchema, required: false })
  @ApiResponse({ status: 200, schema: evidenceSchema })
  async evaluate(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown) {
    const input = parseBody(evaluateBody, body, 'evaluation');
    return this.registry.evaluatePromotion(name, versionParam(version), input.alias);
  }

  /** Streams the parts to disk/memory within the configured limits; the file part never sits in memory. */
  private async receiveUpload(request: FastifyRequest): Promise<{ file: ReceivedFile; metadataText: string | undefined }> {
    const { maxArtifactBytes, maxMetadataBytes } = this.settings;
    let file: ReceivedFile | undefined;
    let metadataText: string | undefined;
    try {
      const parts = request.parts({ limits: { fileSize: maxArtifactBytes, files: 2, fields: 4, parts: 6, fieldSize: maxMetadataBytes } });
      for await (const part of parts) {
        if (part.fieldname === 'artifact' && part.type === 'file') {
          if (file) throw new ValidationError('more than one "artifact" part', { field: 'artifact' });
          file = await this.uploads.receive(part.file, { maxBytes: maxArtifactBytes, what: 'artifact' });
          if (part.file.truncated) throw tooLarge('artifact', maxArtifactBytes);
        } else if (part.fieldname === 'metadata') {
          if (metadataText !== undefined) throw new ValidationError('more than one "metadata" part', { field: 'metadata' });
          metadataText = await metadataOf(part, maxMetadataBytes);
        } else {
          if (part.type === 'file') part.file.resume();
          throw new ValidationError(`unexpected part "${part.fieldname.slice(0, 40)}": send "artifact" (a file) and "metadata" (JSON)`, { field: part.fieldname });
        }
      }
    } catch (error) {
      if (file) await this.uploads.discard(file);
      throw asValidationError(error);
    }
    if (!file) throw new ValidationError('the "artifact" part (the .onnx file) is missing', { field: 'artifact' });
    return { file, metadataText };
  }
}

async function metadataOf(part: Multipart, maxBytes: number): Promise<string> {
  if (part.type === 'field') {
    if (part.valueTruncated) throw tooLarge('metadata', maxBytes);
    // A field sent with `content-type: application/json` (curl's `;type=application/json`)
    // arrives already parsed by the multipart plugin: turn it back into the text we validate.
    return typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
  }
  // A metadata part sent as a file (e.g. a Blob with a JSON content type): bounded in memory.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge('metadata', maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(what: string, maxBytes: number): ValidationError {
  return new ValidationError(`${what} is larger than the maximum of ${maxBytes} bytes`, { field: what, maxBytes });
}

/** Multipart plugin errors (limits, malformed bodies) are the client's: 400 with their message. */
function asValidationError(error: unknown): unknown {
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 && error instanceof Error) {
    return new ValidationError(`invalid multipart upload: ${error.message}`, { field: 'body' });
  }
  return error;
}
