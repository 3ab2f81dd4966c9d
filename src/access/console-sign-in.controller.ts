import { Body, Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProperty,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ApiErrorResponse, ApiErrors } from '../common/api-docs.js';
import { Public } from '../common/public.decorator.js';
import { AppConfig } from '../config/app-config.js';
import { ConsoleSignIn } from './console-sign-in.js';

class SignInCodeDto {
  @ApiProperty({ description: 'Open the console at /console/#code=<code> within a minute' }) code!: string;
  @ApiProperty({ format: 'date-time' }) expires_at!: string;
}

class RedeemCodeDto {
  @ApiProperty({ description: 'The code from /console/#code=…' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'code is not a sign-in code' })
  code!: string;
}

class SignedInDto {
  @ApiProperty({ description: 'The bearer token the code stood for' }) token!: string;
}

class OidcSignInDto {
  @ApiProperty({
    description: 'The OpenID provider (discovery at <issuer>/.well-known/openid-configuration)',
  })
  issuer!: string;
  @ApiProperty({ description: "The console's client id at the provider (a public client, PKCE)" })
  client_id!: string;
  @ApiProperty({ example: 'openid profile' }) scope!: string;
}

class SignInOptionsDto {
  @ApiProperty({
    type: OidcSignInDto,
    nullable: true,
    description:
      'Sign in at your identity provider (CONSOLE_OIDC_CLIENT_ID); null: paste a token or open a one-time link',
  })
  oidc!: OidcSignInDto | null;
}

@ApiTags('access')
@Controller('api/v1/console')
export class ConsoleSignInController {
  constructor(
    private readonly signIn: ConsoleSignIn,
    private readonly config: AppConfig,
  ) {}

  /** How the console signs admins in: public, read before anyone is signed in. */
  @Get('sign-in-options')
  @ApiOperation({ summary: 'How the console signs admins in (OpenID Connect provider, if configured)' })
  @Public()
  @ApiOkResponse({ type: SignInOptionsDto })
  options(): SignInOptionsDto {
    const oidc = this.config.consoleOidc;
    return { oidc: oidc ? { issuer: oidc.issuer, client_id: oidc.clientId, scope: oidc.scope } : null };
  }

  /** A one-time code (60 s) that signs the console in as this token, so the token is never in a URL. */
  @Post('sign-in-codes')
  @ApiOperation({ summary: 'A one-time code (60 s) that signs the console in as this token' })
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: SignInCodeDto })
  @ApiErrors(400, 413, 415)
  issue(@Headers('authorization') authorization: string | undefined): Promise<SignInCodeDto> {
    return this.signIn.issue(authorization);
  }

  /** The console exchanges its code for the token, once. */
  @Post('sign-in')
  @ApiOperation({ summary: 'The console exchanges its one-time code for the token, once' })
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: SignedInDto })
  @ApiErrorResponse(400, 'validation_failed: code is missing or malformed')
  @ApiErrorResponse(401, 'unauthorized: the code is unknown, used or expired')
  @ApiErrorResponse(413, 'payload_too_large: the body is over 64 KB')
  @ApiErrorResponse(415, 'unsupported_media_type: send the body as application/json')
  @ApiErrorResponse(503, 'unavailable: the database cannot be reached')
  redeem(@Body() dto: RedeemCodeDto): Promise<SignedInDto> {
    return this.signIn.redeem(dto.code);
  }
}
