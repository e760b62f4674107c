// REST for sources fed from Kafka topics: PUT/GET/DELETE /v1/sources/{source}/stream.
import { Body, Controller, Delete, Get, Headers, Inject, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { NotFoundError } from '@loopline/errors';
import { IngestionApplication, type SourceView } from '../../application/ingestion-application';
import { normalizeStreamSettings } from '../../domain/source/stream-settings';
import type { SourceStreams } from '../kafka/source-streams';
import { SOURCE_STREAMS } from '../tokens';
import { errorSchema, streamBodySchema, streamSchema } from './openapi-schemas';
import { requestContextFrom } from './request-context';
import { parseBody, streamBody } from './request-schemas';

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

@ApiTags('sources')
@Controller('v1')
export class StreamsController {
  constructor(
    @Inject(IngestionApplication) private readonly ingestion: IngestionApplication,
    @Inject(SOURCE_STREAMS) private readonly streams: SourceStreams | null,
  ) {}

  @Put('sources/:source/stream')
  @ApiOperation({
    summary: 'Feed a source from a Kafka topic of rows (one JSON object per message)',
    description:
      'Rows are micro-batched into dataset versions — at maxRows rows or maxInterval after the first, whichever comes first — each validated like an upload. ' +
      'Offsets are committed only once the version is recorded. Survives restarts; sending the same settings again changes nothing (changed: false).',
  })
  @ApiBody({ schema: streamBodySchema })
  @ApiResponse({ status: 200, schema: streamSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async put(@Param('source') source: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const settings = normalizeStreamSettings(parseBody(streamBody, body));
    const { source: view, changed } = await this.ingestion.configureStream(source, settings, requestContextFrom(headers));
    await this.streams?.reconcile();
    return { ...this.present(view), changed };
  }

  @Get('sources/:source/stream')
  @ApiOperation({ summary: "A source's stream settings, and how its feed is doing in this process" })
  @ApiResponse({ status: 200, schema: streamSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async get(@Param('source') source: string) {
    return this.present(await this.ingestion.getSource(source));
  }

  @Delete('sources/:source/stream')
  @ApiOperation({ summary: 'Stop feeding a source from its topic (rows not yet in a version stay in the topic, uncommitted)' })
  @ApiResponse({ status: 200, schema: streamSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async delete(@Param('source') source: string, @Headers() headers: RequestHeaders) {
    const before = await this.ingestion.getSource(source);
    if (!before.stream) throw new NotFoundError(`source "${source}" is not fed from a stream`, { source });
    await this.ingestion.stopStream(source, requestContextFrom(headers));
    await this.streams?.reconcile();
    return { source, ...before.stream, stopped: true };
  }

  private present(view: SourceView) {
    if (!view.stream) throw new NotFoundError(`source "${view.name}" is not fed from a stream: PUT /v1/sources/${view.name}/stream {"topic": …} to feed it`, { source: view.name });
    return { source: view.name, ...view.stream, status: this.streams?.status(view.name) ?? null };
  }
}
