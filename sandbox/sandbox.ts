import type { Environment, SandboxModel, ServiceProtectionLimits } from './model.js';
import type { SigningKey } from './signing.js';
import type { MailCatcher } from './mail.js';
import type { PlatformIdp } from './platform-idp.js';

export interface SandboxOptions {
  /** Port of the login server (0 = any free port). */
  port?: number;
  host?: string;
  /** Port of the mail catcher's SMTP server (0 = any free port). */
  mailPort?: number;
}

export interface Sandbox {
  loginUrl: string;
  /** The mail catcher: `smtp://host:port` for SMTP_URL, and what it caught. */
  mail: MailCatcher;
  model: SandboxModel;
  key: SigningKey;
  /** The platform's OpenID provider for console sign-in, at `${loginUrl}/platform`. */
  platformIdp: PlatformIdp;
  /** Starts a Dataverse environment for a tenant on its own port (0 = any free port). */
  addEnvironment(input: {
    name: string;
    tenantId: string;
    port?: number;
    /** Port of its Omnichannel Messaging API (0 = any free port). */
    messagingPort?: number;
    limits?: Partial<ServiceProtectionLimits>;
  }): Promise<Environment>;
  close(): Promise<void>;
}
