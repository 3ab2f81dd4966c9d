import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, Roles } from '../../access/access.decorators.js';
import type { Principal } from '../../access/principal.js';
import { AppError } from '../../common/errors.js';
import { ApiErrors } from '../../common/api-docs.js';
import { CustomerMessages } from './customer-messages.js';
import {
  CustomerMessageDto,
  HandoffAttemptsDto,
  HandoffDocumentDto,
  HandoffPageDto,
  HandoffQueryDto,
  QueuedMessageDto,
  SESSION_ID_PATTERN,
  SubmitHandoffDto,
} from './handoff.dto.js';
import { HandoffService } from './handoff.service.js';
import { ConversationEventStreams } from '../conversation/event-streams.js';

/** Transcripts make handoff bodies the largest this API takes; every other route keeps 64 KB. */
const HANDOFF_BODY_LIMIT = 1024 * 1024;

const SESSION_PARAM = {
  name: 'session_id',
  description: 'The session_id the handoff was submitted with',
  example: 'sess_01JD7Z4K',
};

@ApiTags('handoffs')
@ApiBearerAuth()
@Controller('api/v1/handoffs')
export class HandoffController {
  constructor(
    private readonly handoffs: HandoffService,
    private readonly streams: ConversationEventStreams,
    private readonly messages: CustomerMessages,
  ) {}

  @Post()
  @HttpCode(202)
  @Roles('admin', 'handoff')
  @RouteConfig({ bodyLimit: HANDOFF_BODY_LIMIT })
  @ApiOperation({
    summary: 'Hand a conversation to a human: the case is created in Dynamics 365 by a worker, exactly once',
    description:
      'Accepted means committed: 202 with the new handoff; 200 with the existing one when the same session_id comes again with the same body; 409 when it comes with another body. Follow it with GET /api/v1/handoffs/{session_id}.',
  })
  @ApiBody({ type: SubmitHandoffDto })
  @ApiAcceptedResponse({ type: HandoffDocumentDto, description: 'Accepted: queued for delivery (or held)' })
  @ApiOkResponse({
    type: HandoffDocumentDto,
    description: 'The same session submitted again with the same body',
  })
  @ApiErrors(400, 403, 409, 413, 415, 429)
  async submit(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: SubmitHandoffDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<HandoffDocumentDto> {
    const { created, document } = await this.handoffs.submit(principal, dto);
    void reply.header('location', `/api/v1/handoffs/${encodeURIComponent(document.session_id)}`);
    if (!created) void reply.status(200);
    return document;
  }

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Handoffs of the org, newest first' })
  @ApiOkResponse({ type: HandoffPageDto })
  @ApiErrors(400, 403)
  list(@CurrentPrincipal() principal: Principal, @Query() query: HandoffQueryDto): Promise<HandoffPageDto> {
    return this.handoffs.list(principal, query);
  }

  @Get(':session_id')
  @Roles('admin', 'handoff')
  @ApiOperation({ summary: 'One handoff: where its delivery stands and the ids of what it created' })
  @ApiParam(SESSION_PARAM)
  @ApiOkResponse({ type: HandoffDocumentDto })
  @ApiErrors(400, 403, 404)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('session_id') sessionId: string,
  ): Promise<HandoffDocumentDto> {
    return this.handoffs.get(principal, checkSessionId(sessionId));
  }

  @Get(':session_id/attempts')
  @Roles('admin', 'handoff')
  @ApiOperation({ summary: "A handoff's delivery attempts as they ended, newest first" })
  @ApiParam(SESSION_PARAM)
  @ApiOkResponse({ type: HandoffAttemptsDto })
  @ApiErrors(400, 403, 404)
  attempts(
    @CurrentPrincipal() principal: Principal,
    @Param('session_id') sessionId: string,
  ): Promise<HandoffAttemptsDto> {
    return this.handoffs.attempts(principal, checkSessionId(sessionId));
  }

  @Post(':session_id/messages')
  @HttpCode(202)
  @Roles('admin', 'handoff')
  @ApiOperation({
    summary: 'Conversation handoffs: relay a later message of the customer to the representative',
    description:
      'Queued, then sent to the Omnichannel conversation (retried while Microsoft does not answer).',
  })
  @ApiParam(SESSION_PARAM)
  @ApiBody({ type: CustomerMessageDto })
  @ApiAcceptedResponse({ type: QueuedMessageDto })
  @ApiErrors(400, 403, 404, 409, 413, 415)
  relay(
    @CurrentPrincipal() principal: Principal,
    @Param('session_id') sessionId: string,
    @Body() dto: CustomerMessageDto,
  ): Promise<QueuedMessageDto> {
    return this.messages.submit(principal, checkSessionId(sessionId), dto.text);
  }

  @Get(':session_id/events')
  @Roles('admin', 'handoff')
  @ApiOperation({
    summary:
      'Conversation handoffs: Server-Sent Events of the representative’s messages and the conversation’s state',
    description:
      'Every event after Last-Event-ID (header, or the last_event_id query parameter), then each new one; `: keep-alive` comments while idle; the stream ends after conversation.closed. Event types: agent.message, agent.typing, conversation.event, conversation.closed.',
  })
  @ApiParam(SESSION_PARAM)
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream' })
  @ApiErrors(400, 403, 404, 409, 429)
  async events(
    @CurrentPrincipal() principal: Principal,
    @Param('session_id') sessionId: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Query('last_event_id') lastEventQuery: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.streams.stream(
      principal,
      checkSessionId(sessionId),
      lastEventId ?? lastEventQuery,
      request,
      reply,
    );
  }

  @Post(':session_id/retry')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Send a failed handoff back to pending (attempts counted afresh)' })
  @ApiParam(SESSION_PARAM)
  @ApiOkResponse({ type: HandoffDocumentDto })
  @ApiErrors(400, 403, 404, 409)
  retry(
    @CurrentPrincipal() principal: Principal,
    @Param('session_id') sessionId: string,
  ): Promise<HandoffDocumentDto> {
    return this.handoffs.retry(principal, checkSessionId(sessionId));
  }
}

function checkSessionId(sessionId: string): string {
  if (!SESSION_ID_PATTERN.test(sessionId)) {
    throw AppError.validation([
      { field: 'session_id', message: 'session_id must be 1-128 characters of A-Z a-z 0-9 . _ : -' },
    ]);
  }
  return sessionId;
}
