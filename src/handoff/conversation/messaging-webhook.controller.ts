import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '../../common/api-docs.js';
import { Public } from '../../common/public.decorator.js';
import { ConversationActivities } from './conversation-activities.js';

/**
 * Where Microsoft posts the representative's side of a conversation: register
 * `<this service>/webhooks/dynamics365/messaging/<org id>` as the channel's msdyn_webhookurl.
 * Not behind the API's bearer tokens: Microsoft's own token is checked instead.
 */
@ApiTags('webhooks')
@Controller('webhooks/dynamics365/messaging')
export class MessagingWebhookController {
  constructor(private readonly activities: ConversationActivities) {}

  @Post(':org_id/v3/conversations/:conversation_id/activities')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Microsoft's Messaging API posts a representative's message, typing, event or the end of the conversation",
  })
  @ApiHeader({
    name: 'x-ms-token',
    required: false,
    description: "Microsoft's token (or Authorization: Bearer)",
  })
  @ApiOkResponse({ description: 'Stored (or stored before)' })
  @ApiErrorResponse(400, 'validation_failed: not a Bot Framework activity')
  @ApiErrorResponse(401, 'unauthorized: no token, or not one of the org’s tenant for its app; nothing stored')
  @ApiErrorResponse(404, 'not_found: no handoff has this conversation')
  async receive(
    @Param('org_id') orgId: string,
    @Param('conversation_id') conversationId: string,
    @Headers('x-ms-token') msToken: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @Body() activity: Record<string, unknown>,
  ): Promise<Record<string, never>> {
    const bearer = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    await this.activities.receive(orgId, conversationId, msToken?.trim() || bearer, activity);
    return {};
  }
}
