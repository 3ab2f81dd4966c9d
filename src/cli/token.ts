import { parseArgs } from 'node:util';
import { signDevToken } from '../access/dev-token.js';
import { ORG_ID_PATTERN } from '../access/principal.js';
import { loadConfigFromProcess, runningServiceUrl, serviceUrl } from '../config/environment.js';
import { runCli } from './run-cli.js';

/**
 * `npm run token -- --org acme --role admin [--sub alice] [--name "Alice"] [--ttl 3600]`;
 * `--console` prints the admin console's address with an admin token in its fragment instead.
 */
const USAGE =
  'usage: npm run token -- --org <org_id> [--role admin]... [--sub alice] [--name "Alice"] [--ttl 3600] [--console]';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      role: { type: 'string', multiple: true },
      sub: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean' },
      console: { type: 'boolean' },
    },
  });
  // The console is an admin's page: an org and the admin role unless given.
  if (values.console) {
    values.org ??= 'demo';
    values.role ??= ['admin'];
    values.name ??= 'Console admin';
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.org || !ORG_ID_PATTERN.test(values.org)) {
    console.error(`--org is required: 1-64 letters, digits, ".", "_" or "-"\n${USAGE}`);
    return 2;
  }
  const ttl = Number(values.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 31 * 24 * 3600) {
    console.error(`--ttl must be a whole number of seconds between 1 and 2678400\n${USAGE}`);
    return 2;
  }
  const config = loadConfigFromProcess();
  if (config.nodeEnv === 'production') {
    console.error('Refusing to sign tokens in production: use your identity provider.');
    return 1;
  }
  if (ttl > config.auth.maxTokenAgeSeconds) {
    console.error(
      `--ttl must not exceed AUTH_MAX_TOKEN_AGE (${config.auth.maxTokenAgeSeconds} s): the service refuses longer-lived tokens`,
    );
    return 2;
  }
  if (config.auth.mode !== 'hs256') {
    console.error(
      'AUTH_JWKS_URL is configured: tokens come from that identity provider, not from this command.',
    );
    return 1;
  }
  const token = await signDevToken(config, {
    org: values.org,
    roles: values.role ?? [],
    sub: values.sub ?? 'dev-user',
    name: values.name,
    ttlSeconds: ttl,
  });
  if (values.console) {
    // The console is signed in with a one-time code from the running service, never with the token
    // in the URL (the browser would keep it in its history).
    // The running service's own address (it publishes it), unless PORT or HOST says where to look.
    const explicit = process.env.PORT?.trim() || process.env.HOST?.trim();
    const base = (!explicit && runningServiceUrl(config)) || serviceUrl(config);
    // To this service itself, not Microsoft.
    // eslint-disable-next-line no-restricted-globals
    const answer = await fetch(`${base}/api/v1/console/sign-in-codes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    }).catch((error: Error) => error);
    if (answer instanceof Error || !answer.ok) {
      console.error(
        `Could not get a sign-in code from the service at ${base} (${answer instanceof Error ? answer.message : `HTTP ${answer.status}`}): start it first (npm start), or set PORT to where it runs.`,
      );
      return 1;
    }
    const { code } = (await answer.json()) as { code: string };
    console.log(`${base}/console/#code=${code}`);
    return 0;
  }
  console.log(token);
  return 0;
});
