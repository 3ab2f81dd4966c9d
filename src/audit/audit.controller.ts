import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../access/access.decorators.js';
import type { Principal } from '../access/principal.js';
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
  @ApiOkResponse({ type: AuditPageDto })
  @ApiResponse({ status: 403, description: 'forbidden: needs the admin role' })
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
  verify(@CurrentPrincipal() principal: Principal): Promise<AuditVerificationDto> {
    return this.audit.verify(principal);
  }
}
