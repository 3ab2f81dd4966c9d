import type { TestApp } from './app.js';
import type { MicrosoftWorld } from './microsoft.js';
import { withClient } from './database.js';

export const PATH = '/api/v1/integrations/dynamics365';

export interface ApiResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(
  t: TestApp,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResult<T>> {
  const response = await t.request(path, {
    method,
    token,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

export function credentialsOf(
  ms: MicrosoftWorld,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    client_id: ms.app.clientId,
    client_secret: ms.secret.value,
    tenant_id: ms.tenant.id,
    environment_url: ms.environment.origin,
    ...overrides,
  };
}

export async function settingsRow(t: TestApp, orgId: string): Promise<Record<string, unknown> | undefined> {
  return withClient(t.databaseUrl, async (client) => {
    const result = await client.query('SELECT * FROM dynamics365_integration_settings WHERE org_id = $1', [
      orgId,
    ]);
    return result.rows[0] as Record<string, unknown> | undefined;
  });
}

export async function auditEvents(t: TestApp, orgId: string): Promise<Record<string, any>[]> {
  return withClient(t.databaseUrl, async (client) => {
    const result = await client.query('SELECT * FROM audit_events WHERE org_id = $1 ORDER BY id', [orgId]);
    return result.rows as Record<string, any>[];
  });
}
