import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/errors.js';
import { IS_PUBLIC } from '../common/public.decorator.js';
import { AuthenticatedRequest, Role, ROLES } from './access.decorators.js';
import { TokenVerifier } from './token-verifier.service.js';

/**
 * Global guard: every route needs a valid bearer token unless marked @Public(); routes marked
 * @Roles(...) also need one of those roles.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.verifier.verify(request.headers.authorization);
    request.principal = principal;
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (required?.length && !required.some((role) => principal.roles.includes(role))) {
      throw new AppError('forbidden', `This action needs the ${required.join(' or ')} role.`);
    }
    return true;
  }
}
