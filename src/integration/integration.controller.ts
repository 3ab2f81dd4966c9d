import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Put, UseInterceptors } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../access/access.decorators.js';
import type { Principal } from '../access/principal.js';
import { RequestAuditContext } from '../audit/audit-context.decorator.js';
import type { AuditContext } from '../audit/audit.service.js';
import { IntegrationCredentialsDto, IntegrationStatusDto, TestResultDto } from './integration.dto.js';
import { IntegrationService } from './integration.service.js';
import { VersionEtagInterceptor } from './etag.interceptor.js';

const FAILURES = [
  {
    status: 400,
    description: 'validation_failed: a field is missing or malformed (nothing reached Microsoft)',
  },
  { status: 401, description: 'unauthorized' },
  { status: 403, description: 'forbidden: needs the admin role' },
  {
    status: 422,
    description: 'verification_failed: Microsoft rejected the credentials; `verification` says where and why',
  },
  { status: 429, description: 'rate_limited: too many verification attempts for this org' },
  { status: 502, description: 'upstream_unavailable: Microsoft did not answer; nothing changed' },
];

@ApiTags('dynamics365')
@ApiBearerAuth()
@Controller('api/v1/integrations/dynamics365')
@UseInterceptors(VersionEtagInterceptor)
export class IntegrationController {
  constructor(private readonly integration: IntegrationService) {}

  @Get()
  @ApiOperation({ summary: 'Status of the org’s Dynamics 365 connection (any member of the org)' })
  @ApiOkResponse({ type: IntegrationStatusDto })
  @ApiResponse({ status: 404, description: 'not_found: not connected' })
  status(@CurrentPrincipal() principal: Principal): Promise<IntegrationStatusDto> {
    return this.integration.status(principal);
  }

  @Put()
  @Roles('admin')
  @ApiOperation({
    summary: 'Test & Save: verify live (token exchange, then Dataverse probe), then store encrypted',
  })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The version you last saw, e.g. "3" (409 when stale)',
  })
  @ApiBody({ type: IntegrationCredentialsDto })
  @ApiOkResponse({ type: IntegrationStatusDto })
  @ApiResponse({ status: 409, description: 'conflict: If-Match is stale' })
  @ApiResponse(FAILURES[0])
  @ApiResponse(FAILURES[3])
  @ApiResponse(FAILURES[5])
  save(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: IntegrationCredentialsDto,
    @Headers('if-match') ifMatch: string | undefined,
    @RequestAuditContext() context: AuditContext,
  ): Promise<IntegrationStatusDto> {
    return this.integration.save(principal, dto, ifMatch, context);
  }

  @Post('test')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Verify credentials without saving anything' })
  @ApiOkResponse({ type: TestResultDto })
  @ApiResponse(FAILURES[3])
  @ApiResponse(FAILURES[5])
  test(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: IntegrationCredentialsDto,
  ): Promise<TestResultDto> {
    return this.integration.test(principal, dto);
  }

  @Post('verify')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Re-verify the stored credentials now and record the outcome' })
  @ApiOkResponse({ type: IntegrationStatusDto })
  verify(
    @CurrentPrincipal() principal: Principal,
    @RequestAuditContext() context: AuditContext,
  ): Promise<IntegrationStatusDto> {
    return this.integration.verifyStored(principal, context);
  }

  @Delete()
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({ summary: 'Disconnect: delete the stored credentials (records in Dynamics stay)' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The version you last saw, e.g. "3" (409 when stale)',
  })
  @ApiNoContentResponse()
  @ApiResponse({ status: 404, description: 'not_found: not connected' })
  @ApiResponse({ status: 409, description: 'conflict: If-Match is stale' })
  disconnect(
    @CurrentPrincipal() principal: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @RequestAuditContext() context: AuditContext,
  ): Promise<void> {
    return this.integration.disconnect(principal, ifMatch, context);
  }
}
