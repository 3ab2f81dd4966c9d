import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../access/access.decorators.js';
import type { Principal } from '../access/principal.js';
import { RequestAuditContext } from '../audit/audit-context.decorator.js';
import type { AuditContext } from '../audit/audit.service.js';
import { ApiErrors } from '../common/api-docs.js';
import {
  AlertListDto,
  NotificationSettingsDto,
  NotificationSettingsInputDto,
  NotificationTestDto,
} from './notifications.dto.js';
import { NotificationsService } from './notifications.service.js';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('api/v1')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('notifications')
  @Roles('admin')
  @ApiOperation({
    summary: 'Where the org’s alerts go: e-mail recipients, a signed webhook, which conditions',
  })
  @ApiOkResponse({ type: NotificationSettingsDto })
  @ApiErrors(403)
  get(@CurrentPrincipal() principal: Principal): Promise<NotificationSettingsDto> {
    return this.notifications.get(principal);
  }

  @Put('notifications')
  @Roles('admin')
  @ApiOperation({
    summary:
      'Set them; a new webhook_url answers its webhook_secret (whsec_…) once. Omitted fields are kept.',
  })
  @ApiBody({ type: NotificationSettingsInputDto })
  @ApiOkResponse({ type: NotificationSettingsDto })
  @ApiErrors(400, 403, 413, 415)
  put(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: NotificationSettingsInputDto,
    @RequestAuditContext() context: AuditContext,
  ): Promise<NotificationSettingsDto> {
    return this.notifications.put(principal, dto, context);
  }

  @Post('notifications/test')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Sends a test alert on every channel and answers each channel’s outcome' })
  @ApiOkResponse({ type: NotificationTestDto })
  @ApiErrors(403, 409)
  test(@CurrentPrincipal() principal: Principal): Promise<NotificationTestDto> {
    return this.notifications.test(principal);
  }

  @Get('alerts')
  @Roles('admin')
  @ApiOperation({ summary: 'The org’s alerts, open first, with their notices' })
  @ApiOkResponse({ type: AlertListDto })
  @ApiErrors(403)
  list(@CurrentPrincipal() principal: Principal): Promise<AlertListDto> {
    return this.notifications.list(principal);
  }
}
