import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { CONDITIONS } from './alert-messages.js';

export class NotificationSettingsInputDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['oncall@example.com'],
    description: 'At most 10 recipients',
  })
  @IsOptional()
  @IsArray({ message: 'emails must be an array of e-mail addresses' })
  @ArrayMaxSize(10, { message: 'emails holds at most 10 addresses' })
  @IsEmail({}, { each: true, message: 'each of emails must be an e-mail address' })
  emails?: string[];

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'https://hooks.example.com/dynamics365',
    description:
      'A public https URL; null removes the webhook. A new URL gets a new signing secret, answered once.',
  })
  @IsOptional()
  @IsString({ message: 'webhook_url must be a URL or null' })
  @MaxLength(2048, { message: 'webhook_url must be at most 2048 characters' })
  webhook_url?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    enum: CONDITIONS,
    isArray: true,
    description: 'The conditions to announce; null: all',
  })
  @IsOptional()
  @IsArray({ message: 'events must be an array of conditions, or null for all' })
  @IsIn(CONDITIONS, { each: true, message: `each of events must be one of ${CONDITIONS.join(', ')}` })
  events?: string[] | null;
}

export class NotificationSettingsDto {
  @ApiProperty({ type: [String] }) emails!: string[];
  @ApiProperty({ nullable: true, type: String }) webhook_url!: string | null;
  @ApiProperty({ nullable: true, enum: CONDITIONS, isArray: true, description: 'null: all conditions' })
  events!: string[] | null;
  @ApiProperty({ description: 'Whether the service can send e-mail (SMTP_URL and SMTP_FROM are set)' })
  email_available!: boolean;
  @ApiPropertyOptional({
    type: String,
    description:
      'Only in the answer that created it: the webhook’s Standard Webhooks signing secret. Store it now.',
  })
  webhook_secret?: string;
  @ApiProperty() version!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) updated_at!: string | null;
}

export class ChannelOutcomeDto {
  @ApiProperty({ enum: ['email', 'webhook'] }) channel!: string;
  @ApiProperty({ enum: ['sent', 'failed', 'pending'] }) state!: string;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
}

export class NotificationTestDto {
  @ApiProperty({ type: [ChannelOutcomeDto] }) channels!: ChannelOutcomeDto[];
}

export class AlertDeliveryDto {
  @ApiProperty({ enum: ['email', 'webhook', 'operator'] }) channel!: string;
  @ApiProperty({ enum: ['opened', 'escalated', 'reminder', 'resolved'] }) notice!: string;
  @ApiProperty({ enum: ['pending', 'sent', 'failed'] }) state!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) last_error!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) sent_at!: string | null;
}

export class AlertDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: CONDITIONS }) condition!: string;
  @ApiProperty({ nullable: true, type: String, example: '3_days' }) stage!: string | null;
  @ApiProperty({ enum: ['open', 'resolved'] }) state!: string;
  @ApiProperty({ description: 'What happened' }) title!: string;
  @ApiProperty({ nullable: true, type: String, description: 'What to do' }) todo!: string | null;
  @ApiProperty({ type: Object }) detail!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) opened_at!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) resolved_at!: string | null;
  @ApiProperty({ type: [AlertDeliveryDto] }) deliveries!: AlertDeliveryDto[];
}

export class AlertListDto {
  @ApiProperty({ type: [AlertDto] }) items!: AlertDto[];
}
