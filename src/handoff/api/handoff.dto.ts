import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { GUID_EXAMPLE } from '../../common/api-docs.js';
import { HANDOFF_CHANNELS, HANDOFF_REASONS, HANDOFF_STATES, TRANSCRIPT_ROLES } from '../handoff.types.js';
import type { HandoffChannel, HandoffRoute, HandoffState } from '../handoff.types.js';

/** The host platform's conversation id: 1–128 of letters, digits and `. _ : -`. */
// Not dots alone: `.` and `..` in a URL path resolve to the parent (a Location of /api/v1/handoffs/.. is /api/v1/).
export const SESSION_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._:-]{1,128}$/;
const SESSION_ID_MESSAGE = 'session_id must be 1-128 characters of A-Z a-z 0-9 . _ : -, not dots alone';
const PHONE_PATTERN = /^\+?[0-9][0-9 ()./-]{2,49}$/;
const ISO_DATE_TIME = { strict: true, strictSeparator: true } as const;

/** Text that must carry something when given (omit the field instead of sending ""). */
function Text(field: string, max: number) {
  return (target: object, property: string) => {
    IsString({ message: `${field} must be a string` })(target, property);
    IsNotEmpty({ message: `${field} must not be empty (omit it instead)` })(target, property);
    MaxLength(max, { message: `${field} must be at most ${max} characters` })(target, property);
  };
}

export class HandoffCustomerDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'Ada Lovelace' })
  @IsOptional()
  @Text('customer.name', 200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'ada@example.com' })
  @IsOptional()
  @Text('customer.email', 100)
  @IsEmail({}, { message: 'customer.email must be an email address' })
  email?: string;

  @ApiPropertyOptional({ maxLength: 50, example: '+44 20 7946 0958' })
  @IsOptional()
  @Text('customer.phone', 50)
  @Matches(PHONE_PATTERN, {
    message: 'customer.phone must be a phone number: digits, optionally a leading +, spaces ( ) . / -',
  })
  phone?: string;
}

export class TranscriptEntryDto {
  @ApiProperty({ enum: TRANSCRIPT_ROLES })
  @IsIn(TRANSCRIPT_ROLES, { message: `role must be one of ${TRANSCRIPT_ROLES.join(', ')}` })
  role!: (typeof TRANSCRIPT_ROLES)[number];

  @ApiProperty({ maxLength: 20_000, example: 'My order has not arrived.' })
  @IsString({ message: 'text must be a string' })
  @MaxLength(20_000, { message: 'text must be at most 20000 characters' })
  text!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-30T09:12:00Z' })
  @IsISO8601(ISO_DATE_TIME, { message: 'at must be an ISO 8601 date-time' })
  at!: string;
}

/** A conversation handed to a human, as the host platform knows it (validated whole before anything is stored). */
export class SubmitHandoffDto {
  @ApiProperty({ example: 'sess_01JD7Z4K', pattern: SESSION_ID_PATTERN.source })
  @IsString({ message: SESSION_ID_MESSAGE })
  @Matches(SESSION_ID_PATTERN, { message: SESSION_ID_MESSAGE })
  session_id!: string;

  @ApiProperty({ enum: HANDOFF_CHANNELS })
  @IsIn(HANDOFF_CHANNELS, { message: `channel must be one of ${HANDOFF_CHANNELS.join(', ')}` })
  channel!: HandoffChannel;

  @ApiPropertyOptional({ type: HandoffCustomerDto })
  @IsOptional()
  @IsObject({ message: 'customer must be a JSON object' })
  @ValidateNested()
  @Type(() => HandoffCustomerDto)
  customer?: HandoffCustomerDto;

  @ApiPropertyOptional({ maxLength: 100, example: 'Delivery' })
  @IsOptional()
  @Text('classification', 100)
  classification?: string;

  @ApiPropertyOptional({ maxLength: 50, example: 'negative' })
  @IsOptional()
  @Text('sentiment', 50)
  sentiment?: string;

  @ApiPropertyOptional({ maxLength: 10_000, example: 'Parcel missing for 5 days; customer wants a refund.' })
  @IsOptional()
  @Text('summary', 10_000)
  summary?: string;

  @ApiPropertyOptional({ type: [TranscriptEntryDto], maxItems: 1000 })
  @IsOptional()
  @IsArray({ message: 'transcript must be an array of {role, text, at}' })
  @ArrayMaxSize(1000, { message: 'transcript must have at most 1000 entries' })
  @IsObject({ each: true, message: 'each transcript entry must be an object {role, text, at}' })
  @ValidateNested({ each: true })
  @Type(() => TranscriptEntryDto)
  transcript?: TranscriptEntryDto[];
}

/** `?state=a&state=b` or `?state=a,b`. */
const toList = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);

export class HandoffQueryDto {
  @ApiPropertyOptional({ enum: HANDOFF_STATES, isArray: true, description: 'Repeat, or comma-separated' })
  @IsOptional()
  @Transform(toList)
  @ArrayMaxSize(HANDOFF_STATES.length)
  @IsIn(HANDOFF_STATES, { each: true, message: `state must be one of ${HANDOFF_STATES.join(', ')}` })
  state?: HandoffState[];

  @ApiPropertyOptional({ enum: HANDOFF_CHANNELS, isArray: true, description: 'Repeat, or comma-separated' })
  @IsOptional()
  @Transform(toList)
  @ArrayMaxSize(HANDOFF_CHANNELS.length)
  @IsIn(HANDOFF_CHANNELS, { each: true, message: `channel must be one of ${HANDOFF_CHANNELS.join(', ')}` })
  channel?: HandoffChannel[];

  @ApiPropertyOptional({ format: 'date-time', description: 'Accepted at or after (inclusive)' })
  @IsOptional()
  @IsISO8601(ISO_DATE_TIME, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Accepted before (exclusive)' })
  @IsOptional()
  @IsISO8601(ISO_DATE_TIME, { message: 'until must be an ISO 8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  )
  @IsInt({ message: 'limit must be an integer between 1 and 200' })
  @Min(1, { message: 'limit must be an integer between 1 and 200' })
  @Max(200, { message: 'limit must be an integer between 1 and 200' })
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,2048}$/, { message: 'cursor is not a cursor this API returned' })
  cursor?: string;
}

export class HandoffErrorDto {
  @ApiProperty({ example: 'incident_create', description: 'Where delivery stopped' }) stage!: string;
  @ApiProperty({ nullable: true, type: Number, example: 403 }) upstream_status!: number | null;
  @ApiProperty({ nullable: true, type: String, example: '0x80040220' }) upstream_code!: string | null;
  @ApiProperty() message!: string;
  @ApiProperty({ nullable: true, type: String, description: 'What the Dynamics admin should do' })
  hint!: string | null;
}

export class HandoffAttemptDto {
  @ApiProperty({ type: 'integer', description: 'The attempt count (a retried failed handoff counts afresh)' })
  attempt!: number;
  @ApiProperty({
    enum: ['delivered', 'retry', 'held', 'failed', 'cancelled'],
    description: 'How it ended; retry: another attempt was scheduled',
  })
  outcome!: 'delivered' | 'retry' | 'held' | 'failed' | 'cancelled';
  @ApiProperty({ nullable: true, type: String, example: 'attempts_exhausted' }) reason!: string | null;
  @ApiProperty({ nullable: true, type: HandoffErrorDto }) error!: HandoffErrorDto | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the retry was due' })
  next_attempt_at!: string | null;
  @ApiProperty({ format: 'date-time' }) ended_at!: string;
}

export class HandoffAttemptsDto {
  @ApiProperty({ type: [HandoffAttemptDto], description: 'Newest first, at most 100' })
  items!: HandoffAttemptDto[];
}

export class HandoffDynamicsDto {
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description: 'The case, once it exists in Dynamics',
  })
  incident_id!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'CAS-01001-S5X2R8' }) ticket_number!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) contact_id!: string | null;
  @ApiProperty({ nullable: true, type: Boolean, description: 'Whether this handoff created the contact' })
  contact_created!: boolean | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) queue_item_id!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Conversation route: the Omnichannel conversation',
  })
  conversation_id!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    enum: ['open', 'closed'],
    description: 'Conversation route: closed once the representative or the customer ended it',
  })
  conversation_state!: 'open' | 'closed' | null;
}

export class HandoffDocumentDto {
  @ApiProperty() session_id!: string;
  @ApiProperty({ enum: HANDOFF_CHANNELS }) channel!: HandoffChannel;
  @ApiProperty({ enum: ['incident', 'conversation'] }) route!: HandoffRoute;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'messaging_not_configured',
    description:
      'Why this route: messaging_not_configured when a chat channel became a case; messaging_removed when the messaging settings were removed before delivery',
  })
  route_reason!: string | null;
  @ApiProperty({ enum: HANDOFF_STATES }) state!: HandoffState;
  @ApiProperty({
    nullable: true,
    type: String,
    enum: HANDOFF_REASONS,
    description: 'Why held, failed or cancelled',
  })
  reason!: string | null;
  @ApiProperty({ type: 'integer' }) attempts!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) next_attempt_at!: string | null;
  @ApiProperty({ nullable: true, type: HandoffErrorDto }) last_error!: HandoffErrorDto | null;
  @ApiProperty({ type: HandoffDynamicsDto }) dynamics!: HandoffDynamicsDto;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) delivered_at!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description:
      'When what the customer wrote was purged (HANDOFF_RETENTION after the handoff ended, or an erasure); ids, states and Dynamics ids stay',
  })
  content_purged_at!: string | null;
}

export class HandoffPageDto {
  @ApiProperty({ type: [HandoffDocumentDto] }) items!: HandoffDocumentDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class CustomerMessageDto {
  @ApiProperty({ maxLength: 6000, example: 'I have the tracking number now: 1Z999.' })
  @IsString({ message: 'text must be a string' })
  @IsNotEmpty({ message: 'text must not be empty' })
  @MaxLength(6000, { message: 'text must be at most 6000 characters (the Messaging API limit)' })
  text!: string;
}

export class QueuedMessageDto {
  @ApiProperty({ format: 'uuid', description: 'Sent to Microsoft as the activity id' }) message_id!: string;
  @ApiProperty({ enum: ['queued'] }) state!: 'queued';
}
