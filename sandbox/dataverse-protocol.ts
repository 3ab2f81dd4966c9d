// What one Dataverse request and answer are, independent of the HTTP server (so `$batch` parts go
// through the same code as requests), and how Dataverse writes its preferences and errors.
import type { ApplicationUser, Environment, SandboxModel } from './model.js';

export const WEB_API = '/api/data/v9.2/';

export interface DvRequest {
  method: string;
  /** Decoded segments after `/api/data/v9.2/`. */
  segments: string[];
  /** The raw query string (without `?`). */
  rawQuery: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** Parsed JSON, or the raw text for `$batch`. */
  body: unknown;
  rawBody: string;
}

export interface DvResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export interface DvContext {
  model: SandboxModel;
  environment: Environment;
  user: ApplicationUser;
  prefer: Preferences;
}

export class DataverseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A 501 for valid requests the sandbox does not simulate: loud, never a 200 with the feature ignored. */
export function notSimulated(feature: string): DataverseError {
  return new DataverseError(501, '0x80060888', `The sandbox does not simulate ${feature}.`);
}

export interface Preferences {
  returnRepresentation: boolean;
  maxPageSize?: number;
  /** Annotation name patterns (`*`, `OData.Community.Display.V1.FormattedValue`, `Microsoft.Dynamics.CRM.*`). */
  annotations?: string[];
  continueOnError: boolean;
}

/** `Prefer` may come as one header with comma-separated preferences, or several headers. */
export function parsePrefer(header: string | undefined): Preferences {
  const prefer: Preferences = { returnRepresentation: false, continueOnError: false };
  for (const raw of splitPreferences(header ?? '')) {
    const [name, ...rest] = raw.split('=');
    const value = rest.join('=').trim().replace(/^"|"$/g, '');
    switch (name.trim().toLowerCase()) {
      case 'return':
        if (value === 'representation') prefer.returnRepresentation = true;
        break;
      case 'odata.maxpagesize': {
        const size = Number(value);
        if (!Number.isInteger(size) || size < 1) {
          throw new DataverseError(
            400,
            '0x80060888',
            `The odata.maxpagesize preference value '${value}' is not valid.`,
          );
        }
        prefer.maxPageSize = Math.min(size, 5000);
        break;
      }
      case 'odata.include-annotations':
        prefer.annotations = value.split(',').map((a) => a.trim());
        break;
      case 'odata.continue-on-error':
        prefer.continueOnError = true;
        break;
      case 'odata.track-changes':
        throw notSimulated('change tracking (Prefer: odata.track-changes)');
      case 'respond-async':
        throw notSimulated('asynchronous operations (Prefer: respond-async)');
      default:
        break;
    }
  }
  return prefer;
}

/** Commas inside a quoted include-annotations list do not separate preferences. */
function splitPreferences(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of header) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      if (current.trim()) parts.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

export function wantsAnnotation(prefer: Preferences, name: string): boolean {
  return (prefer.annotations ?? []).some(
    (pattern) =>
      pattern === '*' || pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1))),
  );
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): DvResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; odata.metadata=minimal', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * `{"error": {"code", "message"}}`, with the `@Microsoft.PowerApps.CDS.*` annotations when the
 * request asked for them (`Prefer: odata.include-annotations`).
 */
export function errorResponse(error: DataverseError, prefer: Preferences | undefined): DvResponse {
  const body: Record<string, unknown> = { code: error.code, message: error.message };
  const annotate = (name: string, value: string) => {
    if (prefer && wantsAnnotation(prefer, name)) body[`@${name}`] = value;
  };
  const hex = error.code.replace(/^0x/i, '');
  annotate('Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus', '0');
  annotate('Microsoft.PowerApps.CDS.ErrorDetails.SubErrorCode', String(parseInt(hex || '0', 16) | 0));
  annotate(
    'Microsoft.PowerApps.CDS.HelpLink',
    `http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a${hex}&client=platform`,
  );
  annotate('Microsoft.PowerApps.CDS.TraceText', `[Sandbox] ${error.message}`);
  annotate('Microsoft.PowerApps.CDS.InnerError.Message', error.message);
  return json(error.status, { error: body }, error.headers);
}

export function contextUrl(environment: Environment, fragment: string): string {
  return `${environment.origin}/api/data/v9.2/$metadata#${fragment}`;
}
