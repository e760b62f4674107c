import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, type OpenAPIObject } from '@nestjs/swagger';
import { OpenApiDocument } from './openapi-document';

@ApiTags('observability')
@Controller()
export class OpenApiController {
  constructor(private readonly document: OpenApiDocument) {}

  @Get('openapi.json')
  @ApiOperation({ summary: 'This OpenAPI 3 document: every REST route of the service.' })
  @ApiOkResponse({ schema: { type: 'object' } })
  render(): OpenAPIObject {
    return this.document.get();
  }
}
