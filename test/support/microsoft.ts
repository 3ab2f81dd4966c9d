import { startSandbox, Sandbox } from '../../sandbox/server.js';
import type { AppRegistration, Environment, Secret, Tenant } from '../../sandbox/model.js';

/** A simulated Microsoft cloud with one tenant, one working app registration and one environment. */
export interface MicrosoftWorld {
  sandbox: Sandbox;
  tenant: Tenant;
  app: AppRegistration;
  secret: Secret;
  environment: Environment;
  /** The service's environment variables pointing at this sandbox. */
  env: Record<string, string>;
  /** Request-log entries received since `mark()`. */
  mark: () => () => ReturnType<Sandbox['model']['requests']['slice']>;
  /** A new app registration in the tenant, with a secret and (optionally) an application user. */
  addApp: (options?: { privileges?: string[] | 'all' | null; disabledUser?: boolean; name?: string }) => {
    app: AppRegistration;
    secret: Secret;
  };
}

export async function startMicrosoft(extraOrigins: string[] = []): Promise<MicrosoftWorld> {
  const sandbox = await startSandbox();
  const tenant = sandbox.model.createTenant({ name: 'Contoso', domains: ['contoso.onmicrosoft.com'] });
  const environment = await sandbox.addEnvironment({ name: 'contoso', tenantId: tenant.id });
  const addApp: MicrosoftWorld['addApp'] = (options = {}) => {
    const app = sandbox.model.createApp(tenant.id, { name: options.name });
    const secret = sandbox.model.addSecret(tenant.id, app.clientId);
    if (options.privileges !== null) {
      sandbox.model.addApplicationUser('contoso', {
        clientId: app.clientId,
        privileges: options.privileges ?? 'all',
        disabled: options.disabledUser,
      });
    }
    return { app, secret };
  };
  const { app, secret } = addApp({ name: 'Connector' });
  return {
    sandbox,
    tenant,
    app,
    secret,
    environment,
    env: {
      MICROSOFT_LOGIN_URL: sandbox.loginUrl,
      DYNAMICS_ALLOWED_ORIGINS: [environment.origin, ...extraOrigins].join(','),
    },
    mark: () => {
      const start = sandbox.model.requests.length;
      return () => sandbox.model.requests.slice(start);
    },
    addApp,
  };
}
