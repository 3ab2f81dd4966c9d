import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../access/access.decorators.js';
import type { Principal } from '../access/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditPageDto, AuditQueryDto, AuditVerificationDto } from './audit.dto.js';

@ApiTags('audit')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  @ApiOperation({
    summary: 'The org’s audit log, newest first; `Accept: text/csv` streams the filtered log as CSV',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiExtraModels(AuditPageDto)
  @ApiOkResponse({
    description: 'A page of events (JSON), or with `Accept: text/csv` every matching event as CSV',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(AuditPageDto) } },
      'text/csv': {
        schema: { type: 'string' },
        example:
          'id,occurred_at,action,actor_type,actor_id,actor_name,request_id,client_request_id,ip,user_agent,details\r\n',
      },
    },
  })
  @ApiErrors(400, 403)
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AuditQueryDto,
    @Headers('accept') accept: string | undefined,
  ): Promise<AuditPageDto> | StreamableFile {
    return this.audit.read(principal, query, accept);
  }

  @Get('verify')
  @ApiOperation({ summary: 'Recompute the org’s hash chain: finds an edited, removed or reordered event' })
  @ApiOkResponse({ type: AuditVerificationDto })
  @ApiErrors(403)
  verify(@CurrentPrincipal() principal: Principal): Promise<AuditVerificationDto> {
    return this.audit.verify(principal);
  }
}
