// Generated from docs/openapi.json by scripts/api-types.mjs (openapi-typescript): do not edit.
// `npm run api:types` regenerates it; `npm run check` fails when it is out of date.
export interface paths {
  '/api/v1/alerts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The org’s alerts, open first, with their notices */
    get: operations['NotificationsController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/audit-events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The org’s audit log, newest first; `Accept: text/csv` streams the filtered log as CSV */
    get: operations['AuditController_list'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/audit-events/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Recompute the org’s hash chain: finds an edited, removed or reordered event */
    get: operations['AuditController_verify'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/console/sign-in': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** The console exchanges its one-time code for the token, once */
    post: operations['ConsoleSignInController_redeem'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/console/sign-in-codes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** A one-time code (60 s) that signs the console in as this token */
    post: operations['ConsoleSignInController_issue'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/console/sign-in-options': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** How the console signs admins in (OpenID Connect provider, if configured) */
    get: operations['ConsoleSignInController_options'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/customer-data/erase': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Erase one customer’s data (by email, phone or session_id) from every handoff of the org at once; lists what stays in Dynamics */
    post: operations['CustomerDataController_erase'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/handoffs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Handoffs of the org, newest first */
    get: operations['HandoffController_list'];
    put?: never;
    /**
     * Hand a conversation to a human: the case is created in Dynamics 365 by a worker, exactly once
     * @description Accepted means committed: 202 with the new handoff; 200 with the existing one when the same session_id comes again with the same body; 409 when it comes with another body. Follow it with GET /api/v1/handoffs/{session_id}.
     */
    post: operations['HandoffController_submit'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/handoffs/{session_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One handoff: where its delivery stands and the ids of what it created */
    get: operations['HandoffController_get'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/handoffs/{session_id}/attempts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A handoff's delivery attempts as they ended, newest first */
    get: operations['HandoffController_attempts'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/handoffs/{session_id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Conversation handoffs: Server-Sent Events of the representative’s messages and the conversation’s state
     * @description Every event after Last-Event-ID (header, or the last_event_id query parameter), then each new one; `: keep-alive` comments while idle; the stream ends after conversation.closed. Event types: agent.message, agent.typing, conversation.event, conversation.closed.
     */
    get: operations['HandoffController_events'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/handoffs/{session_id}/messages': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Conversation handoffs: relay a later message of the customer to the representative
     * @description Queued, then sent to the Omnichannel conversation (retried while Microsoft does not answer).
     */
    post: operations['HandoffController_relay'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/handoffs/{session_id}/retry': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Send a failed handoff back to pending (attempts counted afresh) */
    post: operations['HandoffController_retry'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/integrations/dynamics365': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Status of the org’s Dynamics 365 connection (any member of the org) */
    get: operations['IntegrationController_status'];
    /** Test & Save: verify live (token exchange, then Dataverse probe), then store encrypted */
    put: operations['IntegrationController_save'];
    post?: never;
    /** Disconnect: delete the stored credentials (records in Dynamics stay) */
    delete: operations['IntegrationController_disconnect'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/integrations/dynamics365/certificate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** A certificate instead of a client secret: a new key pair (empty body) or an imported one; answers the certificate to upload in Azure, never the key */
    post: operations['IntegrationController_createCertificate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/integrations/dynamics365/certificate/{certificate_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A certificate of the org (not saved yet, or the one in use), to download again; `Accept: application/pkix-cert` answers the .cer file (DER) */
    get: operations['IntegrationController_certificate'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/integrations/dynamics365/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Verify credentials without saving anything */
    post: operations['IntegrationController_test'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/integrations/dynamics365/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Re-verify the stored credentials now and record the outcome */
    post: operations['IntegrationController_verify'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The principal the token carries */
    get: operations['AccessController_me'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/notifications': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Where the org’s alerts go: e-mail recipients, a signed webhook, which conditions */
    get: operations['NotificationsController_get'];
    /** Set them; a new webhook_url answers its webhook_secret (whsec_…) once. Omitted fields are kept. */
    put: operations['NotificationsController_put'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/notifications/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Sends a test alert on every channel and answers each channel’s outcome */
    post: operations['NotificationsController_test'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: the process is up and serving HTTP */
    get: operations['HealthController_live'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Readiness: the database answers (503 otherwise) */
    get: operations['HealthController_ready'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Prometheus metrics
     * @description Served here unless METRICS_PORT moves it to its own listener; needs `Authorization: Bearer <METRICS_TOKEN>` when that is set; not served in production without one of them.
     */
    get: operations['MetricsController_scrape'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/webhooks/dynamics365/messaging/{org_id}/v3/conversations/{conversation_id}/activities': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Microsoft's Messaging API posts a representative's message, typing, event or the end of the conversation */
    post: operations['MessagingWebhookController_receive'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    AlertDeliveryDto: {
      attempts: number;
      /** @enum {string} */
      channel: 'email' | 'webhook' | 'operator';
      last_error: string | null;
      /** @enum {string} */
      notice: 'opened' | 'escalated' | 'reminder' | 'resolved';
      /** Format: date-time */
      sent_at: string | null;
      /** @enum {string} */
      state: 'pending' | 'sent' | 'failed';
    };
    AlertDto: {
      /** @enum {string} */
      condition:
        | 'connection.status_changed'
        | 'secret.expiring'
        | 'readiness.failed'
        | 'handoffs.failing'
        | 'messaging.webhook_rejected';
      deliveries: components['schemas']['AlertDeliveryDto'][];
      detail: Record<string, never>;
      /** Format: uuid */
      id: string;
      /** Format: date-time */
      opened_at: string;
      /** Format: date-time */
      resolved_at: string | null;
      /** @example 3_days */
      stage: string | null;
      /** @enum {string} */
      state: 'open' | 'resolved';
      /** @description What happened */
      title: string;
      /** @description What to do */
      todo: string | null;
    };
    AlertListDto: {
      items: components['schemas']['AlertDto'][];
    };
    AuditActorDto: {
      id: string | null;
      name: string | null;
      /** @enum {string} */
      type: 'user' | 'system';
    };
    AuditEventDto: {
      /** @enum {string} */
      action:
        | 'integration.saved'
        | 'integration.save_rejected'
        | 'integration.disconnected'
        | 'integration.certificate_created'
        | 'integration.status_changed'
        | 'integration.readiness_changed'
        | 'notifications.changed'
        | 'customer_data.erased';
      actor: components['schemas']['AuditActorDto'];
      /** @description The X-Request-Id the caller sent, if any */
      client_request_id: string | null;
      details: Record<string, never>;
      id: string;
      ip: string | null;
      /** Format: date-time */
      occurred_at: string;
      /** @description The id this service gave the request */
      request_id: string | null;
      user_agent: string | null;
    };
    AuditPageDto: {
      items: components['schemas']['AuditEventDto'][];
      next_cursor: string | null;
    };
    AuditVerificationDto: {
      /** @description Events checked */
      checked: number;
      /** @description First event whose chain link is broken */
      first_broken_id: string | null;
      ok: boolean;
      /** @description Why the chain does not verify when no one event is to blame (an erased chain) */
      problem: string | null;
    };
    CertificateDto: {
      /**
       * Format: uuid
       * @description Send as certificate_id with Test & Save
       */
      certificate_id: string;
      /** @description The public certificate to upload under Certificates & secrets → Certificates (save it as a .cer file) */
      certificate_pem: string;
      /**
       * Format: date-time
       * @description When the certificate expires
       */
      not_after: string;
      /** Format: date-time */
      not_before: string;
      /** @enum {string} */
      source: 'generated' | 'imported' | 'stored';
      /** @example CN=dynamics365-connector acme */
      subject: string;
      /** @description SHA-1, hex: the Thumbprint the Azure portal lists after the upload */
      thumbprint: string;
      /** @description SHA-256 of the DER, base64url: the x5t#S256 of client assertions */
      thumbprint_sha256: string;
    };
    CertificateSummaryDto: {
      /** Format: date-time */
      not_after: string;
      /** Format: date-time */
      not_before: string;
      subject: string;
      /** @description SHA-1, hex, as the Azure portal lists it */
      thumbprint: string;
    };
    ChannelOutcomeDto: {
      /** @enum {string} */
      channel: 'email' | 'webhook';
      error: string | null;
      /** @enum {string} */
      state: 'sent' | 'failed' | 'pending';
    };
    CreateCertificateDto: {
      /** @description Import: the certificate, PEM (RSA, 2048 bits or more). With private_key_pem; omit both to generate. */
      certificate_pem?: string;
      /** @description Import: a PKCS#12 file (.pfx/.p12) holding the key and its certificate, base64-encoded. Instead of the PEM fields. */
      pfx?: string;
      /** @description The PKCS#12 file's password (omit for none) */
      pfx_password?: string;
      /** @description Import: its private key, unencrypted PEM (PKCS#8 or PKCS#1). Stored encrypted, never returned. */
      private_key_pem?: string;
    };
    CustomerMessageDto: {
      /** @example I have the tracking number now: 1Z999. */
      text: string;
    };
    DynamicsRecordDto: {
      /** Format: uuid */
      id: string;
      /** @enum {string} */
      type: 'incident' | 'contact' | 'annotation' | 'conversation';
    };
    EraseCustomerDataDto: {
      /**
       * @description The customer’s e-mail, as given in handoffs
       * @example ada@example.com
       */
      email?: string;
      /**
       * @description The customer’s phone (compared by its digits)
       * @example +44 20 7946 0958
       */
      phone?: string;
      /**
       * @description One handoff, by its session id
       * @example sess-42
       */
      session_id?: string;
    };
    ErasureResultDto: {
      /** @description The records these handoffs created in Dynamics 365: the service never deletes in Dynamics; erase them there */
      dynamics_records: components['schemas']['DynamicsRecordDto'][];
      /** @description Handoffs whose content was purged now (0 when erased before) */
      handoffs_erased: number;
    };
    ErrorDto: {
      /**
       * @description Stable code; see docs/api.md (errors)
       * @example validation_failed
       */
      code: Record<string, never>;
      /** @description validation_failed: each offending field */
      details?: components['schemas']['FieldProblemDto'][];
      /** @example The request is not valid. */
      message: string;
      /**
       * @description Also in X-Request-Id
       * @example 7f5b9dba-0f26-43b2-8ac3-5ca29a1d2a42
       */
      request_id: string;
      /** @description verification_failed / upstream_unavailable: the Microsoft stage, status, code and hint */
      verification?: Record<string, never>;
    };
    ErrorResponseDto: {
      error: components['schemas']['ErrorDto'];
    };
    FieldProblemDto: {
      /** @example client_id */
      field: string;
      /** @example client_id must be a GUID such as 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b */
      message: string;
    };
    HandoffAttemptDto: {
      /** @description The attempt count (a retried failed handoff counts afresh) */
      attempt: number;
      /** Format: date-time */
      ended_at: string;
      error: components['schemas']['HandoffErrorDto'] | null;
      /**
       * Format: date-time
       * @description When the retry was due
       */
      next_attempt_at: string | null;
      /**
       * @description How it ended; retry: another attempt was scheduled
       * @enum {string}
       */
      outcome: 'delivered' | 'retry' | 'held' | 'failed' | 'cancelled';
      /** @example attempts_exhausted */
      reason: string | null;
    };
    HandoffAttemptsDto: {
      /** @description Newest first, at most 100 */
      items: components['schemas']['HandoffAttemptDto'][];
    };
    HandoffCustomerDto: {
      /** @example ada@example.com */
      email?: string;
      /** @example Ada Lovelace */
      name?: string;
      /** @example +44 20 7946 0958 */
      phone?: string;
    };
    HandoffDocumentDto: {
      attempts: number;
      /** @enum {string} */
      channel:
        | 'web'
        | 'sms'
        | 'whatsapp'
        | 'email'
        | 'phone_voice'
        | 'web_voice'
        | 'slack'
        | 'instagram'
        | 'messenger'
        | 'api';
      /**
       * Format: date-time
       * @description When what the customer wrote was purged (HANDOFF_RETENTION after the handoff ended, or an erasure); ids, states and Dynamics ids stay
       */
      content_purged_at: string | null;
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      delivered_at: string | null;
      dynamics: components['schemas']['HandoffDynamicsDto'];
      last_error: components['schemas']['HandoffErrorDto'] | null;
      /** Format: date-time */
      next_attempt_at: string | null;
      /**
       * @description Why held, failed or cancelled
       * @enum {string|null}
       */
      reason:
        | 'connection_invalid'
        | 'secret_undecryptable'
        | 'configuration'
        | 'attempts_exhausted'
        | 'expired'
        | 'disconnected'
        | null;
      /** @enum {string} */
      route: 'incident' | 'conversation';
      /**
       * @description Why this route: messaging_not_configured when a chat channel became a case; messaging_removed when the messaging settings were removed before delivery
       * @example messaging_not_configured
       */
      route_reason: string | null;
      session_id: string;
      /** @enum {string} */
      state: 'pending' | 'delivering' | 'delivered' | 'held' | 'failed' | 'cancelled';
    };
    HandoffDynamicsDto: {
      /** @description Whether this handoff created the contact */
      contact_created: boolean | null;
      /** Format: uuid */
      contact_id: string | null;
      /** @description Conversation route: the Omnichannel conversation */
      conversation_id: string | null;
      /**
       * @description Conversation route: closed once the representative or the customer ended it
       * @enum {string|null}
       */
      conversation_state: 'open' | 'closed' | null;
      /**
       * Format: uuid
       * @description The case, once it exists in Dynamics
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      incident_id: string | null;
      /** Format: uuid */
      queue_item_id: string | null;
      /** @example CAS-01001-S5X2R8 */
      ticket_number: string | null;
    };
    HandoffErrorDto: {
      /** @description What the Dynamics admin should do */
      hint: string | null;
      message: string;
      /**
       * @description Where delivery stopped
       * @example incident_create
       */
      stage: string;
      /** @example 0x80040220 */
      upstream_code: string | null;
      /** @example 403 */
      upstream_status: number | null;
    };
    HandoffPageDto: {
      items: components['schemas']['HandoffDocumentDto'][];
      next_cursor: string | null;
    };
    IntegrationCredentialsDto: {
      /**
       * Format: uuid
       * @description A certificate instead of a client secret: the id POST …/certificate answered (its certificate uploaded to the app registration), or the stored one. Not with client_secret.
       * @example d3b07384-d9a0-4c9b-8e1f-2a3b4c5d6e7f
       */
      certificate_id?: string;
      /**
       * Format: uuid
       * @description Application (client) ID of the app registration
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      client_id: string;
      /**
       * @description The secret Value (not its Secret ID). Omit to keep the stored secret.
       * @example Wk8Q~demo-secret-value-0123456789abcdefghij
       */
      client_secret?: string;
      /**
       * Format: uuid
       * @description systemuser GUID owning new cases
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      default_owner_id?: string | null;
      /**
       * @description Case priority (1 High, 2 Normal, 3 and 4 Low); null resets it to 2
       * @default 2
       * @example 2
       */
      default_priority: number | null;
      /**
       * Format: uuid
       * @description Queue GUID for new cases
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      default_queue_id?: string | null;
      /**
       * Format: uuid
       * @description Omnichannel workstream GUID for chats
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      default_workstream_id?: string | null;
      /** @example https://yourorg.crm.dynamics.com */
      environment_url: string;
      /**
       * Format: uuid
       * @description Id of the custom messaging channel record (msdyn_occustommessagingchannel)
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      messaging_channel_id?: string | null;
      /**
       * @description Omnichannel Messaging API endpoint. With messaging_channel_id and messaging_organization_id (all three or none), web, SMS and WhatsApp handoffs become Omnichannel conversations
       * @example https://m-1c8f2a4e3b5d4e6f8a9b0c1d2e3f4a5b.us.omnichannelengagementhub.com
       */
      messaging_endpoint?: string | null;
      /**
       * Format: uuid
       * @description The Dynamics 365 organization id (Power Platform admin center → environment → Organization ID)
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      messaging_organization_id?: string | null;
      /**
       * @description Token scope for the Messaging API; omit or null to derive it from the environment (public cloud)
       * @example https://1c8f2a4e3b5d4e6f8a9b0c1d2e3f4a5b-c.crm.dynamics.com/.default
       */
      messaging_scope?: string | null;
      /**
       * @description The Application ID URI the messaging webhook's token is issued for (the app registration's Expose an API); default api://<client_id>
       * @example api://1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      messaging_webhook_audience?: string | null;
      /**
       * Format: uuid
       * @description The app that calls the messaging webhook (its client id); default the connection's client_id
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      messaging_webhook_caller_id?: string | null;
      /**
       * Format: date-time
       * @description When the secret expires (Azure shows it)
       * @example 2027-06-30T00:00:00Z
       */
      secret_expires_at?: string | null;
      /**
       * @description Directory (tenant) ID (GUID) or verified domain
       * @example contoso.onmicrosoft.com
       */
      tenant_id: string;
      /**
       * @example {
       *       "casetypecode": 1
       *     }
       */
      ticket_properties?: Record<string, never> | null;
    };
    IntegrationStatusDto: {
      certificate: components['schemas']['CertificateSummaryDto'] | null;
      /**
       * Format: uuid
       * @description The certificate in use
       */
      certificate_id: string | null;
      /**
       * Format: uuid
       * @example 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b
       */
      client_id: string;
      /** @description First three characters of the secret, as Azure shows them; a certificate's thumbprint's first six */
      client_secret_hint: string;
      /** Format: date-time */
      created_at: string;
      /**
       * @description How the app proves itself to Entra ID
       * @enum {string}
       */
      credential_type: 'client_secret' | 'certificate';
      /** Format: uuid */
      default_owner_id: string | null;
      default_priority: number;
      /** Format: uuid */
      default_queue_id: string | null;
      /** Format: uuid */
      default_workstream_id: string | null;
      environment_url: string;
      last_verification: components['schemas']['LastVerificationDto'] | null;
      /** Format: date-time */
      last_verified_at: string | null;
      /** Format: uuid */
      messaging_channel_id: string | null;
      messaging_endpoint: string | null;
      /** Format: uuid */
      messaging_organization_id: string | null;
      /** @description The scope in use: as entered, or derived from the environment */
      messaging_scope: string | null;
      /** @description As entered; null: api://<client_id> */
      messaging_webhook_audience: string | null;
      /**
       * Format: uuid
       * @description As entered; null: the client_id
       */
      messaging_webhook_caller_id: string | null;
      org_id: string;
      /** @description What handoffs need, as last checked (Test & Save, verify, the nightly sweep); never blocks a save */
      readiness: components['schemas']['ReadinessDto'] | null;
      /**
       * Format: date-time
       * @description When the credential expires: as entered for a secret; the certificate's own
       */
      secret_expires_at: string | null;
      /** @enum {string} */
      status: 'active' | 'invalid' | 'unreachable';
      tenant_id: string;
      ticket_properties: Record<string, never>;
      /** Format: date-time */
      updated_at: string;
      /** @description Changes on every update; send it back as If-Match */
      version: number;
      /** @description secret_undecryptable: the stored secret is under a key missing from ENCRYPTION_KEYS */
      warnings: ('secret_expires_soon' | 'secret_expired' | 'secret_undecryptable')[];
    };
    LastVerificationDto: {
      /** Format: date-time */
      checked_at: string;
      duration_ms: number;
      /**
       * @description On a failure: the request field the hint is about, when the fix is in one of them
       * @example client_secret
       */
      field?: string | null;
      hint: string | null;
      message: string | null;
      /** @enum {string} */
      outcome: 'ok' | 'rejected' | 'unreachable';
      /** @enum {string} */
      stage: 'token_exchange' | 'dynamics_probe' | 'messaging_token';
      /** @example AADSTS7000215 */
      upstream_code: string | null;
      upstream_status: number | null;
    };
    NotificationSettingsDto: {
      /** @description Whether the service can send e-mail (SMTP_URL and SMTP_FROM are set) */
      email_available: boolean;
      emails: string[];
      /** @description null: all conditions */
      events:
        | (
            | 'connection.status_changed'
            | 'secret.expiring'
            | 'readiness.failed'
            | 'handoffs.failing'
            | 'messaging.webhook_rejected'
          )[]
        | null;
      /** Format: date-time */
      updated_at: string | null;
      version: number;
      /** @description Only in the answer that created it: the webhook’s Standard Webhooks signing secret. Store it now. */
      webhook_secret?: string;
      webhook_url: string | null;
    };
    NotificationSettingsInputDto: {
      /**
       * @description At most 10 recipients
       * @example [
       *       "oncall@example.com"
       *     ]
       */
      emails?: string[];
      /** @description The conditions to announce; null: all */
      events?:
        | (
            | 'connection.status_changed'
            | 'secret.expiring'
            | 'readiness.failed'
            | 'handoffs.failing'
            | 'messaging.webhook_rejected'
          )[]
        | null;
      /**
       * @description A public https URL; null removes the webhook. A new URL gets a new signing secret, answered once.
       * @example https://hooks.example.com/dynamics365
       */
      webhook_url?: string | null;
    };
    NotificationTestDto: {
      channels: components['schemas']['ChannelOutcomeDto'][];
    };
    OidcSignInDto: {
      /** @description The console's client id at the provider (a public client, PKCE) */
      client_id: string;
      /** @description The OpenID provider (discovery at <issuer>/.well-known/openid-configuration) */
      issuer: string;
      /** @example openid profile */
      scope: string;
    };
    PrincipalDto: {
      /** @example Alice Admin */
      name: string | null;
      /** @example acme */
      org_id: string;
      /**
       * @example [
       *       "admin"
       *     ]
       */
      roles: string[];
      /** @example alice */
      sub: string;
    };
    QueuedMessageDto: {
      /**
       * Format: uuid
       * @description Sent to Microsoft as the activity id
       */
      message_id: string;
      /** @enum {string} */
      state: 'queued';
    };
    ReadinessCheckDto: {
      /**
       * @description application_user, privileges, privilege:<name>, default_queue, default_owner, default_workstream or messaging_conversations
       * @example privilege:prvCreateIncident
       */
      check: string;
      /** @example Create on Case (prvCreateIncident) is missing */
      detail: string;
      /** @description What to grant or fix, where, and which handoff step it breaks; null when ok */
      hint: string | null;
      ok: boolean;
    };
    ReadinessDto: {
      /** Format: date-time */
      checked_at: string;
      checks: components['schemas']['ReadinessCheckDto'][];
      /** @description Every check passed: a handoff has what it needs */
      ready: boolean;
    };
    RedeemCodeDto: {
      /** @description The code from /console/#code=… */
      code: string;
    };
    SignedInDto: {
      /** @description The bearer token the code stood for */
      token: string;
    };
    SignInCodeDto: {
      /** @description Open the console at /console/#code=<code> within a minute */
      code: string;
      /** Format: date-time */
      expires_at: string;
    };
    SignInOptionsDto: {
      /** @description Sign in at your identity provider (CONSOLE_OIDC_CLIENT_ID); null: paste a token or open a one-time link */
      oidc: components['schemas']['OidcSignInDto'] | null;
    };
    StageResultDto: {
      duration_ms: number;
      /**
       * @description On a failure: the request field the hint is about, when the fix is in one of them
       * @example client_secret
       */
      field?: string | null;
      hint: string | null;
      message: string | null;
      /** @enum {string} */
      outcome: 'ok' | 'rejected' | 'unreachable';
      /** @enum {string} */
      stage: 'token_exchange' | 'dynamics_probe' | 'messaging_token';
      /** @example AADSTS7000215 */
      upstream_code: string | null;
      upstream_status: number | null;
    };
    SubmitHandoffDto: {
      /** @enum {string} */
      channel:
        | 'web'
        | 'sms'
        | 'whatsapp'
        | 'email'
        | 'phone_voice'
        | 'web_voice'
        | 'slack'
        | 'instagram'
        | 'messenger'
        | 'api';
      /** @example Delivery */
      classification?: string;
      customer?: components['schemas']['HandoffCustomerDto'];
      /** @example negative */
      sentiment?: string;
      /** @example sess_01JD7Z4K */
      session_id: string;
      /** @example Parcel missing for 5 days; customer wants a refund. */
      summary?: string;
      transcript?: components['schemas']['TranscriptEntryDto'][];
    };
    TestResultDto: {
      ok: boolean;
      /** @description null when Microsoft did not answer the readiness calls (try again) */
      readiness: components['schemas']['ReadinessDto'] | null;
      stages: components['schemas']['StageResultDto'][];
    };
    TranscriptEntryDto: {
      /**
       * Format: date-time
       * @example 2026-11-30T09:12:00Z
       */
      at: string;
      /** @enum {string} */
      role: 'customer' | 'ai' | 'agent' | 'system';
      /** @example My order has not arrived. */
      text: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  NotificationsController_list: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AlertListDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  AuditController_list: {
    parameters: {
      query?: {
        /** @description One or several (repeat, or comma-separated) */
        action?: (
          | 'integration.saved'
          | 'integration.save_rejected'
          | 'integration.disconnected'
          | 'integration.certificate_created'
          | 'integration.status_changed'
          | 'integration.readiness_changed'
          | 'notifications.changed'
          | 'customer_data.erased'
        )[];
        /** @description Who, as the log shows it: the actor name (any case), or the id; `System` for the service itself */
        actor?: string;
        /** @description The actor id (`sub` of the token) */
        actor_id?: string;
        /** @description next_cursor of the previous page */
        cursor?: string;
        limit?: number;
        /** @description Inclusive */
        since?: string;
        /** @description Exclusive */
        until?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of events (JSON), or with `Accept: text/csv` every matching event as CSV */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuditPageDto'];
          /** @example id,occurred_at,action,actor_type,actor_id,actor_name,request_id,client_request_id,ip,user_agent,details */
          'text/csv': string;
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  AuditController_verify: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuditVerificationDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  ConsoleSignInController_redeem: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['RedeemCodeDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignedInDto'];
        };
      };
      /** @description validation_failed: code is missing or malformed */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: the code is unknown, used or expired */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over 64 KB */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  ConsoleSignInController_issue: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignInCodeDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  ConsoleSignInController_options: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignInOptionsDto'];
        };
      };
    };
  };
  CustomerDataController_erase: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['EraseCustomerDataDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErasureResultDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_list: {
    parameters: {
      query?: {
        /** @description Repeat, or comma-separated */
        channel?: (
          | 'web'
          | 'sms'
          | 'whatsapp'
          | 'email'
          | 'phone_voice'
          | 'web_voice'
          | 'slack'
          | 'instagram'
          | 'messenger'
          | 'api'
        )[];
        /** @description next_cursor of the previous page */
        cursor?: string;
        limit?: number;
        /** @description Accepted at or after (inclusive) */
        since?: string;
        /** @description Repeat, or comma-separated */
        state?: ('pending' | 'delivering' | 'delivered' | 'held' | 'failed' | 'cancelled')[];
        /** @description Accepted before (exclusive) */
        until?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandoffPageDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_submit: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SubmitHandoffDto'];
      };
    };
    responses: {
      /** @description The same session submitted again with the same body */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandoffDocumentDto'];
        };
      };
      /** @description Accepted: queued for delivery (or held) */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandoffDocumentDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After */
      429: {
        headers: {
          /** @description seconds */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_get: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The session_id the handoff was submitted with */
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandoffDocumentDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_attempts: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The session_id the handoff was submitted with */
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandoffAttemptsDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_events: {
    parameters: {
      query?: never;
      header?: {
        /** @description Resume after this event */
        'Last-Event-ID'?: string;
      };
      path: {
        /** @description The session_id the handoff was submitted with */
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description text/event-stream */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After */
      429: {
        headers: {
          /** @description seconds */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_relay: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The session_id the handoff was submitted with */
        session_id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CustomerMessageDto'];
      };
    };
    responses: {
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['QueuedMessageDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HandoffController_retry: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The session_id the handoff was submitted with */
        session_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['HandoffDocumentDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_status: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IntegrationStatusDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_save: {
    parameters: {
      query?: never;
      header?: {
        /** @description The version you last saw, e.g. "3" (409 when stale) */
        'If-Match'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['IntegrationCredentialsDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IntegrationStatusDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description verification_failed: Microsoft rejected the credentials; `verification` says where and why */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After */
      429: {
        headers: {
          /** @description seconds */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description upstream_unavailable: Microsoft did not answer in time; nothing changed */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_disconnect: {
    parameters: {
      query?: never;
      header?: {
        /** @description The version you last saw, e.g. "3" (409 when stale) */
        'If-Match'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_createCertificate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateCertificateDto'];
      };
    };
    responses: {
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CertificateDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After */
      429: {
        headers: {
          /** @description seconds */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_certificate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        certificate_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The certificate document (JSON), or with `Accept: application/pkix-cert` the certificate as a .cer file */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CertificateDto'];
          'application/pkix-cert': string;
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_test: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['IntegrationCredentialsDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TestResultDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description verification_failed: Microsoft rejected the credentials; `verification` says where and why */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After */
      429: {
        headers: {
          /** @description seconds */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description upstream_unavailable: Microsoft did not answer in time; nothing changed */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  IntegrationController_verify: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IntegrationStatusDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no Dynamics 365 connection is stored for the org, or no such handoff */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description verification_failed: Microsoft rejected the credentials; `verification` says where and why */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After */
      429: {
        headers: {
          /** @description seconds */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description upstream_unavailable: Microsoft did not answer in time; nothing changed */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  AccessController_me: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PrincipalDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  NotificationsController_get: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotificationSettingsDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  NotificationsController_put: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NotificationSettingsInputDto'];
      };
    };
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotificationSettingsDto'];
        };
      };
      /** @description validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere) */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unsupported_media_type: send the body as application/json */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  NotificationsController_test: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotificationTestDto'];
        };
      };
      /** @description unauthorized: no valid bearer token */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description forbidden: the token lacks the role this operation needs */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unavailable: the database cannot be reached */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  HealthController_live: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
  HealthController_ready: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description unavailable: the database does not answer */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  MetricsController_scrape: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Prometheus text format 0.0.4 */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description unauthorized: METRICS_TOKEN is set and the bearer token is not it */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: not served on this port (METRICS_PORT, or production without a token) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
  MessagingWebhookController_receive: {
    parameters: {
      query?: never;
      header?: {
        /** @description Microsoft's token (or Authorization: Bearer) */
        'x-ms-token'?: string;
      };
      path: {
        conversation_id: string;
        org_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Stored (or stored before) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed: not a Bot Framework activity */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description unauthorized: no token, or not one of the org’s tenant for its app; nothing stored */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
      /** @description not_found: no handoff has this conversation */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ErrorResponseDto'];
        };
      };
    };
  };
}
