import { Body, Controller, Delete, Get, Headers, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ValidationError } from '@loopline/errors';
import { RegistryApplication } from '../../application/registry-application';
import { contextWithActor, type Headers as RequestHeaders } from './http-context';
import { aliasBodySchema, aliasMoveSchema, aliasResolutionSchema, changeBodySchema, errorSchema } from './openapi-schemas';
import { actorHeader } from './request-context';
import { changeBody, parseBody, setAliasBody } from './request-schemas';

@ApiTags('aliases')
@ApiHeader({ name: actorHeader, required: false, description: 'who acts, e.g. user:alice; "anonymous" when absent' })
@Controller('v1/models/:name/aliases')
export class AliasesController {
  constructor(@Inject(RegistryApplication) private readonly registry: RegistryApplication) {}

  @Put(':alias')
  @ApiOperation({ summary: 'Point an alias at a version (no gate: an operator decision, recorded with actor and reason)' })
  @ApiBody({ schema: aliasBodySchema })
  @ApiResponse({ status: 200, schema: aliasMoveSchema })
  @ApiResponse({ status: 409, description: 'the version is archived', schema: errorSchema })
  async set(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(setAliasBody, body, 'alias');
    const moved = await this.registry.setAlias(name, alias, input.version, input.reason, contextWithActor(headers, input.actor));
    return { name, ...moved };
  }

  @Delete(':alias')
  @ApiOperation({ summary: 'Remove an alias' })
  @ApiBody({ schema: changeBodySchema, required: false })
  @ApiResponse({ status: 200, schema: aliasMoveSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async remove(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(changeBody, body, 'alias removal');
    const removed = await this.registry.removeAlias(name, alias, input.reason, contextWithActor(headers, input.actor));
    return { name, alias: removed.alias, version: removed.version };
  }

  @Get(':alias')
  @ApiOperation({ summary: 'Which version an alias points at now, or pointed at at a past time (?at=ISO-8601), read from the event history' })
  @ApiQuery({ name: 'at', required: false, description: 'ISO-8601 time, e.g. 2026-01-10T12:00:00Z' })
  @ApiResponse({ status: 200, schema: aliasResolutionSchema })
  @ApiResponse({ status: 404, description: 'no version held the alias then', schema: errorSchema })
  async resolve(@Param('name') name: string, @Param('alias') alias: string, @Query('at') at: string | undefined) {
    const version = await this.registry.resolveAlias(name, alias, parseTime(at));
    return { alias, version };
  }
}

function parseTime(value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  // ISO-8601 with a date and a time; Date.parse alone would accept "1" or "March 7".
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ValidationError(`"at" must be an ISO-8601 time with a zone, e.g. 2026-01-10T12:00:00Z; got ${JSON.stringify(value.slice(0, 40))}`, { field: 'at' });
  }
  return new Date(value);
}
