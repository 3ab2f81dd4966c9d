// Used by conformance.spec.ts in a process of its own (started with NODE_EXTRA_CA_CERTS, so
// Node's fetch trusts the test certificate): a TLS front before the sandbox's login server, and
// MSAL Node with its default network client reaching Entra ID through it by `knownAuthorities`
// alone — discovery, issuer check and token request as against the real authority.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { URL } from 'node:url';
import https from 'node:https';
import { ConfidentialClientApplication } from '@azure/msal-node';

const { SANDBOX_LOGIN_URL, TENANT, CLIENT_ID, CLIENT_SECRET, SCOPE, CERT_FILE, KEY_FILE } = process.env;
const upstream = new URL(SANDBOX_LOGIN_URL);

const front = https.createServer(
  { cert: readFileSync(CERT_FILE), key: readFileSync(KEY_FILE) },
  (request, response) => {
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, 'x-forwarded-proto': 'https' },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(forwarded);
  },
);
await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve));
const authorityHost = `localhost:${front.address().port}`;

const client = (secret) =>
  new ConfidentialClientApplication({
    auth: {
      clientId: CLIENT_ID,
      clientSecret: secret,
      authority: `https://${authorityHost}/${TENANT}`,
      knownAuthorities: [authorityHost],
    },
  });

const result = {};
try {
  const token = await client(CLIENT_SECRET).acquireTokenByClientCredential({ scopes: [SCOPE] });
  result.token = { ok: typeof token?.accessToken === 'string', tokenType: token?.tokenType };
} catch (error) {
  result.token = { ok: false, errorCode: error.errorCode, message: error.message };
}
try {
  await client('wrong-secret').acquireTokenByClientCredential({ scopes: [SCOPE] });
  result.wrongSecret = { ok: true };
} catch (error) {
  result.wrongSecret = {
    name: error.name,
    errorCode: error.errorCode,
    errorNo: error.errorNo,
    status: error.status,
  };
}
process.stdout.write(JSON.stringify(result));
front.close();
