import { readFileSync, writeFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3 } from 'openapi-types';
import { startTestApp, TestApp } from './support/app.js';

type Operation = OpenAPIV3.OperationObject;

/** The OpenAPI document as a client generator and a reader get it from GET /docs/openapi.json. */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenAPIV3.Document;
  const operations: [string, string, Operation][] = [];

  beforeAll(async () => {
    // Nothing answers at this address: verification fails as unreachable, never as bad input.
    t = await startTestApp({
      env: { MICROSOFT_LOGIN_URL: 'http://127.0.0.1:9', UPSTREAM_TIMEOUT_MS: '500' },
    });
    doc = (await (await t.request('/docs/openapi.json')).json()) as OpenAPIV3.Document;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of ['get', 'put', 'post', 'patch', 'delete'] as const) {
        const operation = item?.[method];
        if (operation) operations.push([method.toUpperCase(), path, operation]);
      }
    }
  });
  afterAll(() => t.close());

  const api = () => operations.filter(([, path]) => path.startsWith('/api/'));
  const schemaOf = (response: OpenAPIV3.ResponseObject | OpenAPIV3.ReferenceObject | undefined) =>
    (response as OpenAPIV3.ResponseObject | undefined)?.content?.['application/json']?.schema;

  it('is the document checked in as docs/openapi.json, which the console’s API types are generated from', () => {
    const file = new URL('../docs/openapi.json', import.meta.url);
    const current = `${JSON.stringify(doc, null, 2)}\n`;
    // `npm run api:types` writes it (then generates console/src/api-types.ts, which `npm run check` compares).
    if (process.env.UPDATE_API_DOCS === '1') writeFileSync(file, current);
    expect(readFileSync(file, 'utf8')).toBe(current);
  });

  it('is a valid OpenAPI document', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it('describes every error response with the one error schema', () => {
    const errors = operations.flatMap(([method, path, op]) =>
      Object.entries(op.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => [`${method} ${path} ${status}`, schemaOf(response)] as const),
    );
    expect(errors.length).toBeGreaterThan(30);
    for (const [where, schema] of errors) {
      expect([where, schema]).toEqual([where, { $ref: '#/components/schemas/ErrorResponseDto' }]);
    }
  });

  it('lists 401 and 503 on every /api operation, 403 where a role is needed, and the body failures on writes', () => {
    const needsRole = (method: string, path: string) =>
      !(
        path === '/api/v1/me' ||
        path.startsWith('/api/v1/console/') ||
        (method === 'GET' && path === '/api/v1/integrations/dynamics365')
      );
    // Public and read from the configuration alone: it cannot be refused or be unavailable.
    const fromConfiguration = (path: string) => path === '/api/v1/console/sign-in-options';
    for (const [method, path, op] of api()) {
      const statuses = Object.keys(op.responses);
      if (fromConfiguration(path)) {
        expect([path, statuses]).toEqual([path, ['200']]);
        continue;
      }
      const expected = ['401', '503', ...(needsRole(method, path) ? ['403'] : [])];
      if (op.requestBody) expected.push('400', '413', '415');
      expect([method, path, expected.filter((s) => !statuses.includes(s))]).toEqual([method, path, []]);
    }
  });

  it('documents what POST …/verify can answer', () => {
    const verify = operations.find(
      ([m, p]) => m === 'POST' && p === '/api/v1/integrations/dynamics365/verify',
    )!;
    expect(Object.keys(verify[2].responses).sort()).toEqual(
      ['200', '401', '403', '404', '409', '422', '429', '502', '503'].sort(),
    );
  });

  it('documents the CSV export as text/csv', () => {
    const list = operations.find(([m, p]) => m === 'GET' && p === '/api/v1/audit-events')!;
    const content = (list[2].responses['200'] as OpenAPIV3.ResponseObject).content!;
    expect(content['text/csv'].schema).toEqual({ type: 'string' });
    expect(content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AuditPageDto' });
  });

  it('gives GUID fields format uuid and GUID examples, and default_priority an integer', () => {
    const credentials = doc.components!.schemas!.IntegrationCredentialsDto as OpenAPIV3.SchemaObject;
    for (const field of ['client_id', 'default_owner_id', 'default_queue_id', 'default_workstream_id']) {
      const property = credentials.properties![field] as OpenAPIV3.SchemaObject;
      expect([field, property.format]).toEqual([field, 'uuid']);
      expect(property.example).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect((credentials.properties!.default_priority as OpenAPIV3.SchemaObject).type).toBe('integer');
  });

  it('has examples from which a complete Test & Save body passes validation', async () => {
    const credentials = doc.components!.schemas!.IntegrationCredentialsDto as OpenAPIV3.SchemaObject;
    const body = Object.fromEntries(
      Object.entries(credentials.properties!).map(([name, property]) => [
        name,
        (property as OpenAPIV3.SchemaObject).example,
      ]),
    );
    expect(Object.values(body).every((value) => value !== undefined)).toBe(true);
    // A certificate is the alternative to client_secret: a body has one of them.
    delete body.certificate_id;
    const response = await t.request('/api/v1/integrations/dynamics365/test', {
      method: 'POST',
      token: await t.token(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { error?: { code: string; details?: unknown } };
    expect([response.status, answer.error?.code]).toEqual([502, 'upstream_unavailable']);
  });

  it('describes /metrics', () => {
    const metrics = operations.find(([m, p]) => m === 'GET' && p === '/metrics')!;
    expect((metrics[2].responses['200'] as OpenAPIV3.ResponseObject).content!['text/plain']).toBeDefined();
  });
});
