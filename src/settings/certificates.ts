// Certificate credentials (DESIGN §15): the key pair the service makes for an app registration, or
// one imported, and what Entra ID and the admin know it by. Entra ID signs client assertions with
// RSA keys only (RS256/RS384/RS512, PS256 — Microsoft's "certificate credentials" page and its
// libraries), so keys are RSA, 2048 bits or more. Certificates are built with @peculiar/x509
// (Node's crypto reads certificates but cannot make one); everything else is node:crypto.
import 'reflect-metadata';
import { createHash, createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
// PKCS#12 (.pfx) files are read with node-forge: Node's crypto loads them only into TLS contexts.
import forge from 'node-forge';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A generated certificate is valid this long: Microsoft suggests at most two years for app credentials. */
const CERTIFICATE_VALIDITY_DAYS = 730;
const MIN_RSA_BITS = 2048;

export interface CertificateFacts {
  /** The public certificate, PEM: what the admin uploads under Certificates & secrets. */
  certificatePem: string;
  /** SHA-1, upper-case hex: the Thumbprint the Azure portal lists. */
  thumbprint: string;
  /** SHA-256 of the DER, base64url: the assertion's `x5t#S256` header. */
  thumbprintSha256: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

export interface KeyPair extends CertificateFacts {
  /** PKCS#8 PEM. Never leaves the service unencrypted (SecretCipher, like a client secret). */
  privateKeyPem: string;
}

/** Why an imported certificate or key cannot be used, said for the field at fault. */
export class CertificateProblem extends Error {
  constructor(
    readonly field: 'certificate_pem' | 'private_key_pem' | 'pfx' | 'pfx_password',
    message: string,
  ) {
    super(message);
  }
}

/** A new RSA 2048 key pair and a self-signed certificate for it, valid from now. */
export async function generateKeyPair(subject: string, now = new Date()): Promise<KeyPair> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${subject.replace(/[,=+<>#;"\\]/g, ' ')}`,
    // A minute back, so a clock a little behind Microsoft's does not see it as not yet valid.
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CERTIFICATE_VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { ...readCertificate(certificate.toString('pem')), privateKeyPem };
}

/**
 * Certificates read lately, by their PEM: every status read, token exchange and save of a
 * certificate connection reads its certificate, and parsing one costs 0.16 ms (a read-path
 * request's whole budget is about 0.25 ms). Facts are frozen; the oldest entry goes first.
 */
const READ = new Map<string, Readonly<CertificateFacts>>();
const READ_CACHE_SIZE = 512;

/** What a PEM certificate says: thumbprints, subject and validity. */
export function readCertificate(certificatePem: string): CertificateFacts {
  const cached = READ.get(certificatePem);
  if (cached) return cached;
  const facts = Object.freeze(parseCertificate(certificatePem));
  if (READ.size >= READ_CACHE_SIZE) READ.delete(READ.keys().next().value!);
  READ.set(certificatePem, facts);
  return facts;
}

function parseCertificate(certificatePem: string): CertificateFacts {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificatePem);
  } catch {
    throw new CertificateProblem(
      'certificate_pem',
      'certificate_pem is not a PEM certificate (-----BEGIN CERTIFICATE-----)',
    );
  }
  const key = parsed.publicKey;
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new CertificateProblem(
      'certificate_pem',
      `certificate_pem must hold an RSA key of at least ${MIN_RSA_BITS} bits: Microsoft Entra ID signs client assertions with RSA only`,
    );
  }
  return {
    certificatePem: parsed.toString(),
    thumbprint: createHash('sha1').update(parsed.raw).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(parsed.raw).digest('base64url'),
    subject: parsed.subject,
    notBefore: new Date(parsed.validFrom),
    notAfter: new Date(parsed.validTo),
  };
}

/** An imported pair: the certificate read, the key checked to be the certificate's own. */
export function importKeyPair(certificatePem: string, privateKeyPem: string, now = new Date()): KeyPair {
  const facts = readCertificate(certificatePem);
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new CertificateProblem(
      'private_key_pem',
      'private_key_pem is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)',
    );
  }
  if (!new X509Certificate(facts.certificatePem).checkPrivateKey(key)) {
    throw new CertificateProblem('private_key_pem', 'private_key_pem is not the key of this certificate');
  }
  if (facts.notAfter.getTime() <= now.getTime()) {
    throw new CertificateProblem(
      'certificate_pem',
      `the certificate expired on ${facts.notAfter.toISOString()}: Microsoft Entra ID refuses it (AADSTS7000274)`,
    );
  }
  return { ...facts, privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * A pair from a PKCS#12 file (base64): its private key and the certificate that key belongs to
 * (a file may carry the chain too), then checked as a PEM pair is.
 */
export function importPfx(pfxBase64: string, password: string | undefined, now = new Date()): KeyPair {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const der = forge.util.createBuffer(Buffer.from(pfxBase64, 'base64').toString('binary'));
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der), password ?? '');
  } catch (error) {
    const wrongPassword = /mac|password|decrypt/i.test((error as Error).message);
    throw new CertificateProblem(
      wrongPassword ? 'pfx_password' : 'pfx',
      wrongPassword
        ? 'pfx_password does not open this PKCS#12 file'
        : 'pfx must be a PKCS#12 (.pfx/.p12) file, base64-encoded',
    );
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keys = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag), ...bags(forge.pki.oids.keyBag)]
    .map((bag) => bag.key)
    .filter((key): key is forge.pki.rsa.PrivateKey => key !== undefined && !Buffer.isBuffer(key));
  const certificates = bags(forge.pki.oids.certBag)
    .map((bag) => bag.cert)
    .filter((cert): cert is forge.pki.Certificate => cert !== undefined);
  if (keys.length !== 1) {
    throw new CertificateProblem('pfx', `pfx must hold exactly one private key (it holds ${keys.length})`);
  }
  const keyPem = forge.pki.privateKeyToPem(keys[0]);
  const key = createPrivateKey(keyPem);
  const own = certificates
    .map((cert) => forge.pki.certificateToPem(cert))
    .find((pem) => new X509Certificate(pem).checkPrivateKey(key));
  if (!own) throw new CertificateProblem('pfx', 'pfx holds no certificate for its private key');
  return importKeyPair(own, keyPem, now);
}
