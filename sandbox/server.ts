import Fastify, { FastifyInstance } from 'fastify';
import { registerControl } from './control.js';
import { registerDataverse } from './dataverse.js';
import { registerEntra } from './entra.js';
import { registerMessaging } from './messaging.js';
import { SandboxModel } from './model.js';
import type { Sandbox, SandboxOptions } from './sandbox.js';
import { SigningKey } from './signing.js';
import { MailCatcher } from './mail.js';
import { PlatformIdp, registerPlatformIdp } from './platform-idp.js';

/**
 * A local simulated Microsoft cloud: one HTTP server for the Entra ID login host (token
 * endpoint, keys, and the `/_sandbox` control API), plus one server per Dataverse environment
 * (an environment is identified by its origin, as Microsoft identifies it by host). The login
 * server also hosts the platform's own OpenID provider under `/platform` (console sign-in).
 */
export type { Sandbox, SandboxOptions } from './sandbox.js';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const model = new SandboxModel();
  const key = await SigningKey.generate();
  const servers: FastifyInstance[] = [];
  let loginUrl = '';
  const mail = new MailCatcher();
  await mail.listen(options.mailPort ?? 0, host);

  const login = Fastify({ bodyLimit: 1024 * 1024, forceCloseConnections: true });
  servers.push(login);
  registerEntra(login, model, key, () => loginUrl);
  const platformIdp = new PlatformIdp(await SigningKey.generate(), () => loginUrl);
  registerPlatformIdp(login, platformIdp);

  const sandbox: Sandbox = {
    get loginUrl() {
      return loginUrl;
    },
    mail,
    model,
    key,
    platformIdp,
    async addEnvironment(input) {
      const server = Fastify({ bodyLimit: 16 * 1024 * 1024, forceCloseConnections: true });
      registerDataverse(server, model, key, input.name, () => loginUrl);
      const messagingServer = Fastify({ bodyLimit: 1024 * 1024, forceCloseConnections: true });
      registerMessaging(messagingServer, model, key, input.name);
      await server.listen({ port: input.port ?? 0, host });
      servers.push(server);
      await messagingServer.listen({ port: input.messagingPort ?? 0, host });
      servers.push(messagingServer);
      const address = server.server.address() as { port: number };
      const messagingAddress = messagingServer.server.address() as { port: number };
      try {
        const environment = model.createEnvironment({ ...input, origin: `http://${host}:${address.port}` });
        environment.messaging = {
          origin: `http://${host}:${messagingAddress.port}`,
          channels: new Map(),
          conversations: new Map(),
          created: 0,
        };
        return environment;
      } catch (error) {
        await Promise.all([server.close(), messagingServer.close()]);
        throw error;
      }
    },
    async close() {
      await Promise.all([...servers.map((s) => s.close()), mail.close()]);
    },
  };

  registerControl(login, sandbox);
  await login.listen({ port: options.port ?? 0, host });
  loginUrl = `http://${host}:${(login.server.address() as { port: number }).port}`;
  return sandbox;
}
