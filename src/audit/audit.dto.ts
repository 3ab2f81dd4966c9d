import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { AUDIT_ACTIONS } from './audit-action.js';
import type { AuditAction } from './audit-action.js';

/** `?action=a&action=b` or `?action=a,b`. */
const toList = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);

export class AuditQueryDto {
  @ApiPropertyOptional({
    enum: AUDIT_ACTIONS,
    isArray: true,
    description: 'One or several (repeat, or comma-separated)',
  })
  @IsOptional()
  @Transform(toList)
  @ArrayMaxSize(4)
  @IsIn(AUDIT_ACTIONS, { each: true, message: `action must be one of ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction[];

  @ApiPropertyOptional({ description: 'The actor id (`sub` of the token)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor_id?: string;

  @ApiPropertyOptional({
    description:
      'Who, as the log shows it: the actor name (any case), or the id; `System` for the service itself',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Inclusive' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Exclusive' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'until must be an ISO 8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  )
  @IsInt({ message: 'limit must be an integer between 1 and 200' })
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,2048}$/, { message: 'cursor is not a cursor this API returned' })
  cursor?: string;
}

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'system'] }) type!: 'user' | 'system';
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
}

export class AuditEventDto {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) occurred_at!: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action!: AuditAction;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ nullable: true, type: String, description: 'The id this service gave the request' })
  request_id!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The X-Request-Id the caller sent, if any' })
  client_request_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent!: string | null;
  @ApiProperty({ type: Object }) details!: Record<string, unknown>;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class AuditVerificationDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'Events checked' }) checked!: number;
  @ApiProperty({ nullable: true, type: String, description: 'First event whose chain link is broken' })
  first_broken_id!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Why the chain does not verify when no one event is to blame (an erased chain)',
  })
  problem!: string | null;
}
