import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { CertificateProblem, generateKeyPair, importKeyPair, readCertificate } from './certificates.js';

describe('certificates', () => {
  it('makes an RSA 2048 pair whose certificate names the subject, valid two years from a minute ago', async () => {
    const now = new Date('2026-12-07T00:00:00Z');
    const pair = await generateKeyPair('dynamics365-connector acme', now);
    const parsed = new X509Certificate(pair.certificatePem);
    expect(parsed.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(parsed.checkPrivateKey(createPrivateKey(pair.privateKeyPem))).toBe(true);
    expect(pair.subject).toBe('CN=dynamics365-connector acme');
    expect(pair.notBefore.toISOString()).toBe('2026-12-06T23:59:00.000Z');
    expect(pair.notAfter.toISOString()).toBe('2028-12-06T00:00:00.000Z');
    expect(pair.thumbprint).toBe(createHash('sha1').update(parsed.raw).digest('hex').toUpperCase());
    expect(pair.thumbprintSha256).toBe(createHash('sha256').update(parsed.raw).digest('base64url'));
  });

  it('reads a certificate once: the same facts again, frozen', async () => {
    const pair = await generateKeyPair('cache');
    const first = readCertificate(pair.certificatePem);
    expect(readCertificate(pair.certificatePem)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('refuses a key that is not the certificate’s, an expired certificate and a non-PEM, naming the field', async () => {
    const one = await generateKeyPair('one');
    const other = await generateKeyPair('other');
    const problem = (work: () => unknown) => {
      try {
        work();
      } catch (error) {
        return error instanceof CertificateProblem ? [error.field, error.message] : error;
      }
      return null;
    };
    expect(problem(() => importKeyPair(one.certificatePem, other.privateKeyPem))).toEqual([
      'private_key_pem',
      'private_key_pem is not the key of this certificate',
    ]);
    expect(
      problem(() => importKeyPair(one.certificatePem, one.privateKeyPem, new Date('2030-01-01'))),
    ).toEqual(['certificate_pem', expect.stringContaining('AADSTS7000274')]);
    expect(problem(() => importKeyPair('not a certificate', one.privateKeyPem))).toEqual([
      'certificate_pem',
      'certificate_pem is not a PEM certificate (-----BEGIN CERTIFICATE-----)',
    ]);
  });
});
