import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class EraseCustomerDataDto {
  @ApiPropertyOptional({
    example: 'ada@example.com',
    description: 'The customer’s e-mail, as given in handoffs',
  })
  @IsOptional()
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320, { message: 'email must be at most 320 characters' })
  email?: string;

  @ApiPropertyOptional({
    example: '+44 20 7946 0958',
    description: 'The customer’s phone (compared by its digits)',
  })
  @IsOptional()
  @IsString({ message: 'phone must be a string' })
  @Matches(/\d/, { message: 'phone must contain digits' })
  @MaxLength(64, { message: 'phone must be at most 64 characters' })
  phone?: string;

  @ApiPropertyOptional({ example: 'sess-42', description: 'One handoff, by its session id' })
  @IsOptional()
  @IsString({ message: 'session_id must be a string' })
  @MaxLength(128, { message: 'session_id must be at most 128 characters' })
  session_id?: string;
}

export class DynamicsRecordDto {
  @ApiProperty({ enum: ['incident', 'contact', 'annotation', 'conversation'] }) type!: string;
  @ApiProperty({ format: 'uuid' }) id!: string;
}

export class ErasureResultDto {
  @ApiProperty({ description: 'Handoffs whose content was purged now (0 when erased before)' })
  handoffs_erased!: number;
  @ApiProperty({
    type: [DynamicsRecordDto],
    description:
      'The records these handoffs created in Dynamics 365: the service never deletes in Dynamics; erase them there',
  })
  dynamics_records!: DynamicsRecordDto[];
}
