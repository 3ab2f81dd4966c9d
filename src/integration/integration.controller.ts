import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Res,
  StreamableFile,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../access/access.decorators.js';
import { ApiErrors } from '../common/api-docs.js';
import type { Principal } from '../access/principal.js';
import { RequestAuditContext } from '../audit/audit-context.decorator.js';
import type { AuditContext } from '../audit/audit.service.js';
import {
  CertificateDto,
  CreateCertificateDto,
  IntegrationCredentialsDto,
  IntegrationStatusDto,
  TestResultDto,
} from './integration.dto.js';
import { AppError } from '../common/errors.js';
import { IntegrationService } from './integration.service.js';
import { IntegrationCertificates } from './integration-certificates.js';

@ApiTags('dynamics365')
@ApiBearerAuth()
@Controller('api/v1/integrations/dynamics365')
export class IntegrationController {
  constructor(
    private readonly integration: IntegrationService,
    private readonly certificates: IntegrationCertificates,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Status of the org’s Dynamics 365 connection (any member of the org)' })
  @ApiOkResponse({ type: IntegrationStatusDto })
  @ApiErrors(404)
  async status(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IntegrationStatusDto> {
    return withEtag(reply, await this.integration.status(principal));
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
  @ApiErrors(400, 403, 409, 413, 415, 422, 429, 502)
  async save(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: IntegrationCredentialsDto,
    @Headers('if-match') ifMatch: string | undefined,
    @RequestAuditContext() context: AuditContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IntegrationStatusDto> {
    return withEtag(reply, await this.integration.save(principal, dto, ifMatch, context));
  }

  @Post('test')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Verify credentials without saving anything' })
  @ApiOkResponse({ type: TestResultDto })
  @ApiErrors(400, 403, 409, 413, 415, 422, 429, 502)
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
  @ApiErrors(403, 404, 409, 422, 429, 502)
  async verify(
    @CurrentPrincipal() principal: Principal,
    @RequestAuditContext() context: AuditContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IntegrationStatusDto> {
    return withEtag(reply, await this.integration.verifyStored(principal, context));
  }

  @Post('certificate')
  @Roles('admin')
  @ApiOperation({
    summary:
      'A certificate instead of a client secret: a new key pair (empty body) or an imported one; answers the certificate to upload in Azure, never the key',
  })
  @ApiCreatedResponse({ type: CertificateDto })
  @ApiErrors(400, 403, 413, 415, 429)
  createCertificate(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateCertificateDto,
    @RequestAuditContext() context: AuditContext,
  ): Promise<CertificateDto> {
    return this.certificates.create(principal, dto, context);
  }

  @Get('certificate/:certificate_id')
  @Roles('admin')
  @ApiOperation({
    summary:
      'A certificate of the org (not saved yet, or the one in use), to download again; `Accept: application/pkix-cert` answers the .cer file (DER)',
  })
  @ApiProduces('application/json', 'application/pkix-cert')
  @ApiExtraModels(CertificateDto)
  @ApiOkResponse({
    description:
      'The certificate document (JSON), or with `Accept: application/pkix-cert` the certificate as a .cer file',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(CertificateDto) } },
      'application/pkix-cert': { schema: { type: 'string', format: 'binary' } },
    },
  })
  @ApiErrors(400, 403, 404)
  async certificate(
    @CurrentPrincipal() principal: Principal,
    @Param('certificate_id') certificateId: string,
    @Headers('accept') accept: string | undefined,
  ): Promise<CertificateDto | StreamableFile> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(certificateId)) {
      throw AppError.validation([{ field: 'certificate_id', message: 'certificate_id must be a GUID' }]);
    }
    const document = await this.certificates.get(principal, certificateId.toLowerCase());
    if (!accept?.includes('application/pkix-cert')) return document;
    // The .cer file the Azure portal's Upload certificate takes: the certificate's DER.
    const der = Buffer.from(document.certificate_pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    return new StreamableFile(der, {
      type: 'application/pkix-cert',
      disposition: `attachment; filename="dynamics365-connector-${document.thumbprint.slice(0, 8)}.cer"`,
    });
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
  @ApiErrors(400, 403, 404, 409)
  disconnect(
    @CurrentPrincipal() principal: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @RequestAuditContext() context: AuditContext,
  ): Promise<void> {
    return this.integration.disconnect(principal, ifMatch, context);
  }
}

/**
 * `ETag: "<version>"` on a status document, to send back as If-Match. Set here rather than by an
 * interceptor: an interceptor puts every request of the controller through rxjs.
 */
function withEtag(reply: FastifyReply, document: IntegrationStatusDto): IntegrationStatusDto {
  void reply.header('etag', `"${document.version}"`);
  return document;
}
