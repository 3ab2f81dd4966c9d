import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/errors.js';
import { IS_PUBLIC } from '../common/public.decorator.js';
import { AuthenticatedRequest, Role, ROLES } from './access.decorators.js';
import { TokenVerifier } from './token-verifier.js';

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

  /** What each handler's decorators say, read once (metadata does not change at run time). */
  private readonly rules = new WeakMap<object, { isPublic: boolean; required: Role[] | undefined }>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const handler = context.getHandler();
    let rule = this.rules.get(handler);
    if (!rule) {
      const targets = [handler, context.getClass()];
      rule = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
        required: this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets),
      };
      this.rules.set(handler, rule);
    }
    if (rule.isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // Verified before its body was read when the route takes large bodies (authenticateLargeBodies).
    const principal = (request.principal ??= await this.verifier.verify(request.headers.authorization));
    const required = rule.required;
    if (required?.length && !required.some((role) => principal.roles.includes(role))) {
      throw new AppError('forbidden', `This action needs the ${required.join(' or ')} role.`);
    }
    return true;
  }
}
