import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
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

@ApiTags('access')
@Controller('api/v1/console')
export class ConsoleSignInController {
  constructor(private readonly signIn: ConsoleSignIn) {}

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
