import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
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
  registerDecorator,
  ValidationArguments,
} from 'class-validator';
import { GUID_EXAMPLE } from '../common/api-docs.js';
import type { ExpiryWarning } from '../verification/status-rules.js';
import type {
  IntegrationStatus,
  LastVerification,
  Readiness,
  ReadinessCheck,
  StageResult,
} from '../settings/verification.types.js';

const GUID_PATTERN =
  /^(?!0{8}-0{4}-0{4}-0{4}-0{12}$)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GUID_MESSAGE = '$property must be a GUID such as 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const RESERVED_TENANTS = ['common', 'organizations', 'consumers'];

/** A Directory (tenant) ID: a GUID, or a verified domain; never a multi-tenant audience word. */
function IsTenantId() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTenantId',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          !RESERVED_TENANTS.includes(value.trim().toLowerCase()) &&
          (GUID_PATTERN.test(value.trim()) || DNS_NAME.test(value.trim())),
        defaultMessage: (args?: ValidationArguments) =>
          typeof args?.value === 'string' && RESERVED_TENANTS.includes(args.value.trim().toLowerCase())
            ? `tenant_id must be your Directory (tenant) ID, not "${args.value}" (client credentials need a specific tenant)`
            : 'tenant_id must be the Directory (tenant) ID (a GUID) or a verified domain such as contoso.onmicrosoft.com',
      },
    });
}

/**
 * Columns the connector writes on every case, or that change who owns a case or what state it
 * is in: ticket_properties may not set them, in any letter case or as a lookup binding.
 */
const RESERVED_COLUMNS = [
  'title',
  'description',
  'prioritycode',
  'caseorigincode',
  'customerid',
  'routecase',
  'incidentid',
  'ticketnumber',
  'ownerid',
  'owninguser',
  'owningteam',
  'owningbusinessunit',
  'statecode',
  'statuscode',
  'createdon',
  'createdby',
  'modifiedon',
  'modifiedby',
  'overriddencreatedon',
];
/** Plain columns: Dataverse logical names, which the Web API spells in lower case. */
const COLUMN_KEY = /^[a-z][a-z0-9_]{0,99}$/;
/** Lookups: `<navigation property>@odata.bind`, navigation properties may be mixed case. */
const BIND_KEY = /^([A-Za-z][A-Za-z0-9_]{0,99})@odata\.bind$/;
/** A bind value: `/<entity set>(<GUID>)`. */
const BIND_VALUE =
  /^\/?[a-z][a-z0-9_]{0,99}\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$/i;

/** Extra Dataverse columns for every case: an object of column names to simple values. */
function IsTicketProperties() {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTicketProperties',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => ticketPropertiesProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          `ticket_properties ${ticketPropertiesProblem(args?.value)}`,
      },
    });
}

function ticketPropertiesProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object';
  const entries = Object.entries(value);
  if (entries.length > 50) return 'may have at most 50 columns';
  for (const [key, item] of entries) {
    const bind = BIND_KEY.exec(key);
    const column = (bind ? bind[1] : key).toLowerCase();
    if (RESERVED_COLUMNS.some((reserved) => column === reserved || column.startsWith(`${reserved}_`))) {
      return `must not set "${key}": the connector sets it, or it changes the case's owner or state (see the default_* fields)`;
    }
    if (bind) {
      if (typeof item !== 'string' || !BIND_VALUE.test(item)) {
        return `value of "${key}" must be a lookup like /accounts(1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b)`;
      }
      continue;
    }
    if (/^_.*_value$/i.test(key)) {
      return `must not set "${key}": it is a read-only lookup value; bind the lookup with "<navigation property>@odata.bind"`;
    }
    if (!COLUMN_KEY.test(key)) {
      return `has an invalid column name "${key}" (use the Dataverse logical name in lower case, e.g. casetypecode, or "<navigation property>@odata.bind")`;
    }
    if (!['string', 'number', 'boolean'].includes(typeof item) && item !== null) {
      return `value of "${key}" must be a string, number, boolean or null (option sets take their integer value)`;
    }
  }
  return undefined;
}

/**
 * Test & Save and test input. Optional fields that are omitted keep their stored value;
 * `null` clears them. `client_secret` omitted keeps the stored secret.
 */
export class IntegrationCredentialsDto {
  @ApiProperty({
    description: 'Application (client) ID of the app registration',
    format: 'uuid',
    example: GUID_EXAMPLE,
  })
  @IsString()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  client_id!: string;

  @ApiPropertyOptional({
    description: 'The secret Value (not its Secret ID). Omit to keep the stored secret.',
    writeOnly: true,
    example: 'Wk8Q~demo-secret-value-0123456789abcdefghij',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty({ message: 'client_secret must not be empty (omit it to keep the stored secret)' })
  @Matches(/^\S(.*\S)?$/s, { message: 'client_secret must not start or end with spaces' })
  // Entra ID client secrets are printable ASCII; anything else is not a secret's Value.
  @Matches(/^[\x20-\x7e]*$/, {
    message: "client_secret must be the secret's Value as Azure shows it: printable ASCII characters only",
  })
  @MaxLength(1024)
  client_secret?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    example: 'd3b07384-d9a0-4c9b-8e1f-2a3b4c5d6e7f',
    description:
      'A certificate instead of a client secret: the id POST …/certificate answered (its certificate uploaded to the app registration), or the stored one. Not with client_secret.',
  })
  @IsOptional()
  @IsString()
  @Matches(GUID_PATTERN, {
    message: 'certificate_id must be the id POST /api/v1/integrations/dynamics365/certificate answered',
  })
  certificate_id?: string;

  @ApiProperty({
    description: 'Directory (tenant) ID (GUID) or verified domain',
    example: 'contoso.onmicrosoft.com',
  })
  @IsString()
  @IsTenantId()
  tenant_id!: string;

  @ApiProperty({ example: 'https://yourorg.crm.dynamics.com' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  environment_url!: string;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the secret expires (Azure shows it)',
    example: '2027-06-30T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(
    { strict: true, strictSeparator: true },
    { message: 'secret_expires_at must be an ISO 8601 date-time' },
  )
  secret_expires_at?: string | null;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 4,
    default: 2,
    nullable: true,
    type: 'integer',
    description: 'Case priority (1 High, 2 Normal, 3 and 4 Low); null resets it to 2',
    example: 2,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4)
  default_priority?: number | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description: 'systemuser GUID owning new cases',
  })
  @IsOptional()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  default_owner_id?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description: 'Queue GUID for new cases',
  })
  @IsOptional()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  default_queue_id?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description: 'Omnichannel workstream GUID for chats',
  })
  @IsOptional()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  default_workstream_id?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'https://m-1c8f2a4e3b5d4e6f8a9b0c1d2e3f4a5b.us.omnichannelengagementhub.com',
    description:
      'Omnichannel Messaging API endpoint. With messaging_channel_id and messaging_organization_id (all three or none), web, SMS and WhatsApp handoffs become Omnichannel conversations',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  messaging_endpoint?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description: 'Id of the custom messaging channel record (msdyn_occustommessagingchannel)',
  })
  @IsOptional()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  messaging_channel_id?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description:
      'The Dynamics 365 organization id (Power Platform admin center → environment → Organization ID)',
  })
  @IsOptional()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  messaging_organization_id?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'https://1c8f2a4e3b5d4e6f8a9b0c1d2e3f4a5b-c.crm.dynamics.com/.default',
    description:
      'Token scope for the Messaging API; omit or null to derive it from the environment (public cloud)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  @Matches(/^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/\.default$/i, {
    message:
      'messaging_scope must look like https://<organization id without dashes>-c.<region>.dynamics.com/.default',
  })
  messaging_scope?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'api://1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
    description:
      "The Application ID URI the messaging webhook's token is issued for (the app registration's Expose an API); default api://<client_id>",
  })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  @Matches(/^(api:\/\/|https:\/\/)[^\s]+$/, {
    message: 'messaging_webhook_audience must be an Application ID URI: api://… or https://…',
  })
  messaging_webhook_audience?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    format: 'uuid',
    example: GUID_EXAMPLE,
    description:
      "The app that calls the messaging webhook (its client id); default the connection's client_id",
  })
  @IsOptional()
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  messaging_webhook_caller_id?: string | null;

  @ApiPropertyOptional({ nullable: true, type: Object, example: { casetypecode: 1 } })
  @IsOptional()
  @IsObject({ message: 'ticket_properties must be a JSON object' })
  @IsTicketProperties()
  ticket_properties?: Record<string, string | number | boolean | null> | null;
}

export class StageResultDto implements StageResult {
  @ApiProperty({ enum: ['token_exchange', 'dynamics_probe', 'messaging_token'] })
  stage!: StageResult['stage'];
  @ApiProperty({ enum: ['ok', 'rejected', 'unreachable'] }) outcome!: StageResult['outcome'];
  @ApiProperty({ nullable: true, type: Number }) upstream_status!: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'AADSTS7000215' }) upstream_code!: string | null;
  @ApiProperty({ nullable: true, type: String }) message!: string | null;
  @ApiProperty({ nullable: true, type: String }) hint!: string | null;
  @ApiProperty({
    required: false,
    nullable: true,
    type: String,
    example: 'client_secret',
    description: 'On a failure: the request field the hint is about, when the fix is in one of them',
  })
  field?: string | null;
  @ApiProperty() duration_ms!: number;
}

export class LastVerificationDto extends StageResultDto implements LastVerification {
  @ApiProperty({ format: 'date-time' }) checked_at!: string;
}

export class ReadinessCheckDto implements ReadinessCheck {
  @ApiProperty({
    example: 'privilege:prvCreateIncident',
    description:
      'application_user, privileges, privilege:<name>, default_queue, default_owner, default_workstream or messaging_conversations',
  })
  check!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ example: 'Create on Case (prvCreateIncident) is missing' }) detail!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'What to grant or fix, where, and which handoff step it breaks; null when ok',
  })
  hint!: string | null;
}

export class ReadinessDto implements Readiness {
  @ApiProperty({ format: 'date-time' }) checked_at!: string;
  @ApiProperty({ description: 'Every check passed: a handoff has what it needs' }) ready!: boolean;
  @ApiProperty({ type: [ReadinessCheckDto] }) checks!: ReadinessCheckDto[];
}

export class TestResultDto {
  @ApiProperty() ok!: true;
  @ApiProperty({ type: [StageResultDto] }) stages!: StageResultDto[];
  @ApiProperty({
    nullable: true,
    type: ReadinessDto,
    description: 'null when Microsoft did not answer the readiness calls (try again)',
  })
  readiness!: ReadinessDto | null;
}

export type Warning = ExpiryWarning | 'secret_undecryptable';

/** POST …/certificate: empty to generate a key pair, or an existing certificate and its key (PEM, or a PKCS#12 file). */
export class CreateCertificateDto {
  @ApiPropertyOptional({
    description:
      'Import: the certificate, PEM (RSA, 2048 bits or more). With private_key_pem; omit both to generate.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(65_536)
  certificate_pem?: string;

  @ApiPropertyOptional({
    description:
      'Import: its private key, unencrypted PEM (PKCS#8 or PKCS#1). Stored encrypted, never returned.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(65_536)
  private_key_pem?: string;

  @ApiPropertyOptional({
    description:
      'Import: a PKCS#12 file (.pfx/.p12) holding the key and its certificate, base64-encoded. Instead of the PEM fields.',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9+/]+={0,2}$/, { message: 'pfx must be the .pfx file base64-encoded' })
  @MaxLength(131_072)
  pfx?: string;

  @ApiPropertyOptional({ description: "The PKCS#12 file's password (omit for none)" })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  pfx_password?: string;
}

export class CertificateDto {
  @ApiProperty({ format: 'uuid', description: 'Send as certificate_id with Test & Save' })
  certificate_id!: string;
  @ApiProperty({ enum: ['generated', 'imported', 'stored'] }) source!: 'generated' | 'imported' | 'stored';
  @ApiProperty({ description: 'SHA-1, hex: the Thumbprint the Azure portal lists after the upload' })
  thumbprint!: string;
  @ApiProperty({ description: 'SHA-256 of the DER, base64url: the x5t#S256 of client assertions' })
  thumbprint_sha256!: string;
  @ApiProperty({ example: 'CN=dynamics365-connector acme' }) subject!: string;
  @ApiProperty({ format: 'date-time' }) not_before!: string;
  @ApiProperty({ format: 'date-time', description: 'When the certificate expires' }) not_after!: string;
  @ApiProperty({
    description:
      'The public certificate to upload under Certificates & secrets → Certificates (save it as a .cer file)',
  })
  certificate_pem!: string;
}

export class CertificateSummaryDto {
  @ApiProperty({ description: 'SHA-1, hex, as the Azure portal lists it' }) thumbprint!: string;
  @ApiProperty() subject!: string;
  @ApiProperty({ format: 'date-time' }) not_before!: string;
  @ApiProperty({ format: 'date-time' }) not_after!: string;
}

export class IntegrationStatusDto {
  @ApiProperty() org_id!: string;
  @ApiProperty({ enum: ['active', 'invalid', 'unreachable'] }) status!: IntegrationStatus;
  @ApiProperty({ format: 'uuid', example: GUID_EXAMPLE }) client_id!: string;
  @ApiProperty() tenant_id!: string;
  @ApiProperty() environment_url!: string;
  @ApiProperty({
    enum: ['client_secret', 'certificate'],
    description: 'How the app proves itself to Entra ID',
  })
  credential_type!: 'client_secret' | 'certificate';
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'The certificate in use' })
  certificate_id!: string | null;
  @ApiProperty({
    description:
      "First three characters of the secret, as Azure shows them; a certificate's thumbprint's first six",
  })
  client_secret_hint!: string;
  @ApiProperty({ nullable: true, type: CertificateSummaryDto }) certificate!: CertificateSummaryDto | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: "When the credential expires: as entered for a secret; the certificate's own",
  })
  secret_expires_at!: string | null;
  @ApiProperty({
    enum: ['secret_expires_soon', 'secret_expired', 'secret_undecryptable'],
    isArray: true,
    description: 'secret_undecryptable: the stored secret is under a key missing from ENCRYPTION_KEYS',
  })
  warnings!: Warning[];
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 4 }) default_priority!: number;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) default_owner_id!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) default_queue_id!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) default_workstream_id!: string | null;
  @ApiProperty({ type: Object }) ticket_properties!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) messaging_endpoint!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) messaging_channel_id!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) messaging_organization_id!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The scope in use: as entered, or derived from the environment',
  })
  messaging_scope!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'As entered; null: api://<client_id>' })
  messaging_webhook_audience!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'As entered; null: the client_id',
  })
  messaging_webhook_caller_id!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_verified_at!: string | null;
  @ApiProperty({ nullable: true, type: LastVerificationDto }) last_verification!: LastVerificationDto | null;
  @ApiProperty({
    nullable: true,
    type: ReadinessDto,
    description:
      'What handoffs need, as last checked (Test & Save, verify, the nightly sweep); never blocks a save',
  })
  readiness!: ReadinessDto | null;
  @ApiProperty({ type: 'integer', description: 'Changes on every update; send it back as If-Match' })
  version!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}
