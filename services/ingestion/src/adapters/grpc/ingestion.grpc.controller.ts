// `loopline.ingestion.v1.Ingestion` (proto/loopline/ingestion/v1/ingestion_service.proto): the
// same use cases as the REST API. Uploads are client streams written to disk as they arrive
// (async iteration pulls, so gRPC flow control holds back a fast client).
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import type { Metadata, ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import { ValidationError } from '@loopline/errors';
import { IngestionApplication } from '../../application/ingestion-application';
import type { RequestContext } from '../../application/ports';
import { actorFrom, actorHeader, correlationHeader } from '../http/request-context';
import { grpcErrorOf } from '@loopline/service-host/grpc-errors';
import { definitionInputFrom, formatFrom, resultMessage, sourceMessage, versionMessage } from './grpc-mappers';

const service = 'Ingestion';

interface UploadMessage {
  header?: { sourceName?: string; format?: string } | null;
  chunk?: Buffer | null;
}

function contextOf(metadata: Metadata | undefined): RequestContext {
  const actor = metadata?.get(actorHeader)[0];
  const correlation = metadata?.get(correlationHeader)[0];
  return {
    actor: actorFrom(typeof actor === 'string' ? actor : undefined),
    correlationId: typeof correlation === 'string' && /^[\x21-\x7e]{1,200}$/.test(correlation) ? correlation : undefined,
  };
}

@Controller()
export class IngestionGrpcController {
  constructor(@Inject(IngestionApplication) private readonly ingestion: IngestionApplication) {}

  @GrpcMethod(service, 'PutSource')
  async putSource(request: Record<string, unknown>, metadata: Metadata) {
    const { source, changed } = await this.ingestion.putSource(String(request.name ?? ''), definitionInputFrom(request), contextOf(metadata));
    return { source: sourceMessage(source), changed };
  }

  @GrpcMethod(service, 'GetSource')
  async getSource(request: { name: string }) {
    return { source: sourceMessage(await this.ingestion.getSource(request.name)) };
  }

  /** Client streaming: the first message is the header, every following one a chunk of the file. */
  @GrpcStreamCall(service, 'UploadDataset')
  async uploadDataset(call: ServerReadableStream<UploadMessage, unknown>, callback: sendUnaryData<unknown>): Promise<void> {
    try {
      const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadMessage>;
      const first = await messages.next();
      if (first.done || !first.value.header) {
        throw new ValidationError('the first UploadDataset message must carry `header`; the file follows in `chunk` messages', { field: 'header' });
      }
      const source = String(first.value.header.sourceName ?? '');
      const format = formatFrom(first.value.header.format);
      if (!format) throw new ValidationError('the header must give the format (INPUT_FORMAT_CSV, INPUT_FORMAT_JSON_LINES or INPUT_FORMAT_PARQUET)', { field: 'format' });
      const chunks = async function* (): AsyncGenerator<Uint8Array> {
        for (let next = await messages.next(); !next.done; next = await messages.next()) {
          if (next.value.header) throw new ValidationError('`header` may only be sent in the first message', { field: 'header' });
          if (next.value.chunk && next.value.chunk.length > 0) yield next.value.chunk;
        }
      };
      const result = await this.ingestion.ingestStream({ source, format, body: chunks() }, contextOf(call.metadata));
      callback(null, resultMessage(result));
    } catch (error) {
      callback(grpcErrorOf(error), null);
    }
  }

  @GrpcMethod(service, 'ImportDataset')
  async importDataset(request: { sourceName: string; path?: string; uri?: string; location?: string; format?: string }, metadata: Metadata) {
    const result = await this.ingestion.importFile(
      {
        source: request.sourceName,
        path: request.location === 'path' ? request.path : undefined,
        uri: request.location === 'uri' ? request.uri : undefined,
        format: formatFrom(request.format),
      },
      contextOf(metadata),
    );
    return resultMessage(result);
  }

  @GrpcMethod(service, 'GetDatasetVersion')
  async getDatasetVersion(request: { sourceName: string; versionId: string }) {
    return { version: versionMessage(await this.ingestion.getVersion(request.sourceName, request.versionId)) };
  }

  @GrpcMethod(service, 'ListDatasetVersions')
  async listDatasetVersions(request: { sourceName: string }) {
    return { versions: (await this.ingestion.listVersions(request.sourceName)).map(versionMessage) };
  }
}
