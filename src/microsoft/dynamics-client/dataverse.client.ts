// Dataverse Web API client (v9.2). Ours rather than dynamics-web-api because every answer must
// map to a stage, an outcome and Dataverse's own error code, retries must be ours (bounded,
// honouring Retry-After), and creates must be exactly-once: dynamics-web-api's create is a POST,
// which a retry after a lost answer would repeat; here a create is `PATCH <set>(<id>)` with
// `If-None-Match: *` and a client-chosen id, whose 412 means "already made".
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import type { CallPriority } from '../../limits/call-priority.js';
import { BudgetWaitExceeded, DataverseBudget } from '../../limits/dataverse-budget.js';
import { parseJson } from '../json.js';
import { CallGate, NO_RETRY, RetryPolicy, UpstreamHttp, UpstreamResponse } from '../upstream-http.js';
import { retryAfterMs, UpstreamFailure, UpstreamStage, UpstreamTransportError } from '../upstream.js';

const WEB_API_PATH = '/api/data/v9.2';

const ODATA_HEADERS = {
  accept: 'application/json',
  'odata-maxversion': '4.0',
  'odata-version': '4.0',
};

interface DataverseErrorBody {
  error?: { code?: string; message?: string };
}

export type DataverseRecord = Record<string, unknown>;

/** One part of a `$batch` answer: its record, or the failure it would have been alone. */
export type BatchAnswer = { record: DataverseRecord } | { failure: UpstreamFailure };

/** A body sent as it is (not JSON), with its content type. */
class RawBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

/** Who calls: the environment, its access token, and the stage failures are reported under. */
export interface DataverseCall {
  environmentUrl: string;
  accessToken: string;
  stage: UpstreamStage;
  retry?: RetryPolicy;
  /** Its place in the environment's call budget (DataverseBudget): who goes first, and how long it may wait. */
  budget: { priority: CallPriority; waitUntil?: number };
}

@Injectable()
export class DataverseClient {
  constructor(
    private readonly config: AppConfig,
    private readonly http: UpstreamHttp,
    private readonly budget: DataverseBudget,
  ) {}

  /** The cheapest call that proves the app user exists, is enabled and may read cases. */
  async probeIncidents(call: Omit<DataverseCall, 'stage'>): Promise<{ durationMs: number }> {
    const started = Date.now();
    await this.send({ ...call, stage: 'dynamics_probe' }, 'GET', '/incidents?$top=1&$select=incidentid');
    return { durationMs: Date.now() - started };
  }

  /**
   * Creates `<set>(<id>)` unless it exists: `PATCH` with `If-None-Match: *`. `created: false` is
   * Dataverse's 412 — the record was made before (by an earlier attempt whose answer was lost, or
   * by a concurrent one). With `select`, the created record's columns come back (201).
   */
  async createOnce(
    call: DataverseCall,
    set: string,
    id: string,
    body: DataverseRecord,
    select?: string[],
  ): Promise<{ created: boolean; record?: DataverseRecord }> {
    const query = select ? `?$select=${select.join(',')}` : '';
    try {
      const response = await this.send(call, 'PATCH', `/${set}(${id})${query}`, body, {
        'if-none-match': '*',
        ...(select ? { prefer: 'return=representation' } : {}),
      });
      return { created: true, record: response.body ? parseJson<DataverseRecord>(response.body) : undefined };
    } catch (error) {
      if (error instanceof UpstreamFailure && error.upstreamStatus === 412) return { created: false };
      throw error;
    }
  }

  async retrieve(call: DataverseCall, set: string, id: string, select: string[]): Promise<DataverseRecord> {
    const response = await this.send(call, 'GET', `/${set}(${id})?$select=${select.join(',')}`);
    return parseJson<DataverseRecord>(response.body) ?? {};
  }

  /** The first row of a query (`$filter`, `$orderby`), or undefined. */
  async findFirst(
    call: DataverseCall,
    set: string,
    query: { select: string[]; filter: string; orderBy?: string },
  ): Promise<DataverseRecord | undefined> {
    const options = [
      `$select=${query.select.join(',')}`,
      `$filter=${encodeURIComponent(query.filter)}`,
      ...(query.orderBy ? [`$orderby=${encodeURIComponent(query.orderBy)}`] : []),
      '$top=1',
    ];
    const response = await this.send(call, 'GET', `/${set}?${options.join('&')}`);
    return parseJson<{ value?: DataverseRecord[] }>(response.body)?.value?.[0];
  }

  /** `WhoAmI`: the caller's systemuser id (for an app token, its application user's). */
  async whoAmI(call: DataverseCall): Promise<{ userId: string; businessUnitId: string | null }> {
    const response = await this.send(call, 'GET', '/WhoAmI');
    const body = parseJson<{ UserId?: unknown; BusinessUnitId?: unknown }>(response.body);
    if (typeof body?.UserId !== 'string') {
      throw new UpstreamFailure(call.stage, 'unreachable', 200, null, 'WhoAmI answered without a UserId.', 0);
    }
    return {
      userId: body.UserId,
      businessUnitId: typeof body.BusinessUnitId === 'string' ? body.BusinessUnitId : null,
    };
  }

  /**
   * The privileges among `names` the user holds through its security roles and its teams' roles,
   * each at its widest depth: `systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNames`
   * (Microsoft: "RetrieveUserSetOfPrivilegesByNames Function" — "privileges a system user has
   * through their roles, and inherited privileges from their team membership"). A privilege the
   * user does not hold is absent from the answer. RetrieveUserPrivileges would list roles only,
   * without what teams grant.
   */
  async userPrivileges(call: DataverseCall, userId: string, names: string[]): Promise<Map<string, string>> {
    const parameter = encodeURIComponent(JSON.stringify(names));
    const response = await this.send(
      call,
      'GET',
      `/systemusers(${userId})/Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNames(PrivilegeNames=@p1)?@p1=${parameter}`,
    );
    const body = parseJson<{ RolePrivileges?: { PrivilegeName?: unknown; Depth?: unknown }[] }>(
      response.body,
    );
    const held = new Map<string, string>();
    const order = ['Basic', 'Local', 'Deep', 'Global'];
    for (const entry of body?.RolePrivileges ?? []) {
      if (typeof entry.PrivilegeName !== 'string') continue;
      const depth = typeof entry.Depth === 'string' ? entry.Depth : String(entry.Depth);
      const known = held.get(entry.PrivilegeName);
      if (!known || order.indexOf(depth) > order.indexOf(known)) held.set(entry.PrivilegeName, depth);
    }
    return held;
  }

  /**
   * Several GETs in one round trip: a `$batch` of GET parts (Microsoft: "Execute batch operations
   * using the Web API"), each answered in order with its own status. A part Dataverse refused is
   * that part's UpstreamFailure; the batch itself failing throws.
   */
  async batchGet(call: DataverseCall, paths: string[]): Promise<BatchAnswer[]> {
    const boundary = `batch_${randomUUID()}`;
    const parts = paths.map(
      (path) =>
        `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n` +
        `GET ${WEB_API_PATH}${path} HTTP/1.1\r\nAccept: application/json\r\n\r\n`,
    );
    const started = Date.now();
    const response = await this.send(
      call,
      'POST',
      '/$batch',
      new RawBody(`${parts.join('')}--${boundary}--\r\n`, `multipart/mixed; boundary=${boundary}`),
    );
    const answerBoundary = /boundary="?([^";]+)"?/i.exec(response.headers.get('content-type') ?? '')?.[1];
    const answers = answerBoundary
      ? response.body
          .split(`--${answerBoundary}`)
          .slice(1, -1)
          .map((part) => batchAnswer(call.stage, part, Date.now() - started))
      : [];
    if (answers.length !== paths.length) {
      throw new UpstreamFailure(
        call.stage,
        'unreachable',
        response.status,
        null,
        `Dataverse answered the $batch with ${answers.length} parts for ${paths.length} requests.`,
        Date.now() - started,
      );
    }
    return answers;
  }

  /** A bound action, e.g. `queues(<id>)/Microsoft.Dynamics.CRM.AddToQueue`. */
  async callBoundAction(
    call: DataverseCall,
    set: string,
    id: string,
    action: string,
    body: unknown,
  ): Promise<DataverseRecord> {
    const response = await this.send(call, 'POST', `/${set}(${id})/Microsoft.Dynamics.CRM.${action}`, body);
    return parseJson<DataverseRecord>(response.body) ?? {};
  }

  /**
   * One Web API call; any answer but 2xx becomes an UpstreamFailure: `rejected` for Dataverse's
   * definite refusals (4xx but 408 and 429, and a name that does not resolve), `unreachable` for
   * no answer, throttling and server errors.
   */
  async send(
    call: DataverseCall,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<UpstreamResponse> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    let response: UpstreamResponse;
    try {
      response = await this.http.send({
        gate: this.gate(call),
        url: `${call.environmentUrl}${WEB_API_PATH}${path}`,
        method,
        headers: {
          ...ODATA_HEADERS,
          authorization: `Bearer ${call.accessToken}`,
          ...(body === undefined
            ? {}
            : {
                'content-type':
                  body instanceof RawBody ? body.contentType : 'application/json; charset=utf-8',
              }),
          ...headers,
        },
        body: body === undefined ? undefined : body instanceof RawBody ? body.text : JSON.stringify(body),
        timeoutMs: this.config.upstreamTimeoutMs,
        retry: call.retry ?? (call.stage === 'dynamics_probe' ? undefined : NO_RETRY),
      });
    } catch (error) {
      if (error instanceof BudgetWaitExceeded) {
        // Answered as the 429 it stands for: the delivery policy retries after the pause.
        throw new UpstreamFailure(
          call.stage,
          'unreachable',
          429,
          error.pause?.code ?? null,
          error.message,
          elapsed(),
          null,
          error.pause ? Math.ceil(error.pause.remainingMs) : null,
        );
      }
      if (error instanceof UpstreamTransportError) {
        // A name that does not resolve is a definite answer: no such environment.
        const outcome = error.kind === 'dns_not_found' ? 'rejected' : 'unreachable';
        throw new UpstreamFailure(call.stage, outcome, null, null, `Dataverse: ${error.message}.`, elapsed());
      }
      throw error;
    }
    if (response.status >= 200 && response.status < 300) return response;

    const parsed = parseJson<DataverseErrorBody>(response.body)?.error;
    const requestId = response.headers.get('req_id') ?? response.headers.get('x-ms-service-request-id');
    const definite =
      response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
    throw new UpstreamFailure(
      call.stage,
      definite ? 'rejected' : 'unreachable',
      response.status,
      parsed?.code || null,
      parsed?.message ?? describeStatus(response.status, response.attempts),
      elapsed(),
      requestId,
      retryAfterMs(response.headers.get('retry-after')),
    );
  }

  /**
   * Each exchange takes a slot of the environment's budget, shared by every instance, and a 429
   * pauses the environment for all of them until its Retry-After.
   */
  private gate(call: DataverseCall): CallGate {
    const host = new URL(call.environmentUrl).host.toLowerCase();
    return {
      // Each exchange (a retry after Retry-After too) waits for its turn at most UPSTREAM_TIMEOUT_MS,
      // or until the caller's deadline (a delivery attempt's).
      enter: async () => {
        const waitUntil = call.budget.waitUntil ?? Date.now() + this.config.upstreamTimeoutMs;
        const slot = await this.budget.enter(host, call.budget.priority, waitUntil);
        return {
          leave: (answer) => {
            const retryAfter =
              answer?.status === 429 ? retryAfterMs(answer.headers.get('retry-after')) : null;
            slot.leave(
              retryAfter === null
                ? undefined
                : {
                    retryAfterMs: retryAfter,
                    code: parseJson<DataverseErrorBody>(answer!.body)?.error?.code ?? null,
                  },
            );
          },
        };
      },
    };
  }
}

/** One part of a `$batch` answer: `HTTP/1.1 <status>`, headers, a blank line, the JSON body. */
function batchAnswer(stage: UpstreamStage, part: string, durationMs: number): BatchAnswer {
  const http = part.slice(part.search(/HTTP\/1\.1 /));
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(http)?.[1] ?? 0);
  const separator = /\r?\n\r?\n/.exec(http);
  const text = separator ? http.slice(separator.index + separator[0].length).trim() : '';
  if (status >= 200 && status < 300) return { record: parseJson<DataverseRecord>(text) ?? {} };
  const error = parseJson<DataverseErrorBody>(text)?.error;
  const definite = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return {
    failure: new UpstreamFailure(
      stage,
      definite ? 'rejected' : 'unreachable',
      status || null,
      error?.code || null,
      error?.message ?? describeStatus(status, 1),
      durationMs,
    ),
  };
}

function describeStatus(status: number, attempts: number): string {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === 401) return 'Dataverse did not accept the access token (HTTP 401).';
  if (status === 429) return `Dataverse is throttling requests (HTTP 429)${tries}.`;
  if (status >= 500) return `Dataverse is unavailable (HTTP ${status})${tries}.`;
  if (status >= 300 && status < 400)
    return `Dataverse answered with a redirect (HTTP ${status}), which is not followed.`;
  return `Dataverse answered HTTP ${status}.`;
}
