import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags, ApiOperation } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs.js';
import { CurrentPrincipal } from './access.decorators.js';
import type { Principal } from './principal.js';

class PrincipalDto implements Principal {
  @ApiProperty({ example: 'alice' }) sub!: string;
  @ApiProperty({ example: 'acme' }) org_id!: string;
  @ApiProperty({ example: ['admin'], type: [String] }) roles!: string[];
  @ApiProperty({ example: 'Alice Admin', nullable: true, type: String }) name!: string | null;
}

@ApiTags('access')
@ApiBearerAuth()
@Controller('api/v1/me')
export class AccessController {
  /** Who the bearer token says you are: a quick way to check a token. */
  @Get()
  @ApiOperation({ summary: 'The principal the token carries' })
  @ApiOkResponse({ type: PrincipalDto })
  @ApiErrors()
  me(@CurrentPrincipal() principal: Principal): PrincipalDto {
    const { sub, org_id, roles, name } = principal;
    return { sub, org_id, roles, name };
  }
}
