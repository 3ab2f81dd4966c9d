import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, LessThan, MoreThan } from 'typeorm';
import { AppError } from '../common/errors.js';
import type { KeyPair } from './certificates.js';
import { PendingCertificate } from './pending-certificate.entity.js';
import { SecretCipher, SecretDecryptionError } from './secret-cipher.js';

/** An org keeps at most this many certificates not saved yet; making another drops the oldest. */
const MAX_PENDING_PER_ORG = 5;
/** A certificate not saved within this long is dropped (retire an encryption key after it). */
const PENDING_LIFETIME_MS = 7 * 86_400_000;

/**
 * Key pairs made or imported for an org and not saved yet (POST …/certificate): the private key
 * sealed to the org and the certificate's id, never returned; Test & Save takes one into the
 * connection and deletes it in the same transaction.
 */
@Injectable()
export class PendingCertificateRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
  ) {}

  /** Stores a new pair in the caller's transaction (with its audit event). */
  async create(
    manager: EntityManager,
    orgId: string,
    pair: KeyPair,
    source: PendingCertificate['source'],
  ): Promise<PendingCertificate> {
    const id = randomUUID();
    const sealed = this.cipher.encrypt(pair.privateKeyPem, aadOf(orgId, id));
    const repository = manager.getRepository(PendingCertificate);
    await repository.delete({ orgId, createdAt: LessThan(new Date(Date.now() - PENDING_LIFETIME_MS)) });
    const kept = await repository.find({
      where: { orgId },
      order: { createdAt: 'DESC' },
      select: { id: true },
    });
    const surplus = kept.slice(MAX_PENDING_PER_ORG - 1).map((row) => row.id);
    if (surplus.length) await repository.delete(surplus);
    return repository.save(
      repository.create({
        id,
        orgId,
        privateKeyEncrypted: sealed.ciphertext,
        privateKeyKeyId: sealed.keyId,
        certificatePem: pair.certificatePem,
        thumbprint: pair.thumbprint,
        notAfter: pair.notAfter,
        source,
      }),
    );
  }

  /** One not saved yet, within its 7 days (older ones are dropped at the org's next certificate). */
  find(orgId: string, id: string): Promise<PendingCertificate | null> {
    return this.dataSource.getRepository(PendingCertificate).findOneBy({
      orgId,
      id,
      createdAt: MoreThan(new Date(Date.now() - PENDING_LIFETIME_MS)),
    });
  }

  /** The private key, decrypted; a key this instance cannot decrypt is a 409 saying what to do. */
  privateKeyOf(row: PendingCertificate): string {
    try {
      return this.cipher.decrypt(
        { keyId: row.privateKeyKeyId, ciphertext: row.privateKeyEncrypted },
        aadOf(row.orgId, row.id),
      );
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new AppError(
        'conflict',
        `The certificate ${row.id} cannot be used: its key is sealed under an encryption key this service no longer has (${error.reason}). Generate a new certificate.`,
      );
    }
  }

  async remove(manager: EntityManager, orgId: string, id: string): Promise<void> {
    await manager.getRepository(PendingCertificate).delete({ orgId, id });
  }

  async removeAll(manager: EntityManager, orgId: string): Promise<void> {
    await manager.getRepository(PendingCertificate).delete({ orgId });
  }
}

function aadOf(orgId: string, id: string): string {
  return `pending-certificate:${orgId}:${id}`;
}
