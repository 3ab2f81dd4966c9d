import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from '../access/access.decorators.js';
import { clientRequestIdOf } from '../common/request-id.js';
import type { AuditContext } from './audit.service.js';

/** Actor (from the verified token), request ids, client IP and user agent, for audit events. */
export const RequestAuditContext = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuditContext => {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    const userAgent = request.headers['user-agent'];
    return {
      actor: principal
        ? { type: 'user', id: principal.sub, name: principal.name }
        : { type: 'system', id: null, name: null },
      requestId: request.id,
      clientRequestId: clientRequestIdOf(request.raw),
      ip: request.ip ?? null,
      userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    };
  },
);
