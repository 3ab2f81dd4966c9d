import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IntegrationStatus, LastVerification, Readiness } from './verification.types.js';

type VerifiedListener = (orgId: string) => Promise<void>;
type DisconnectListener = (manager: EntityManager, orgId: string) => Promise<void>;
/** A verification recorded (in its transaction): the status it left, and readiness when it was checked. */
export interface VerificationFacts {
  orgId: string;
  from: IntegrationStatus | null;
  to: IntegrationStatus;
  verification: LastVerification | null;
  readiness: Readiness | null;
}
type RecordedListener = (manager: EntityManager, facts: VerificationFacts) => Promise<void>;

/**
 * What happens to an org's connection, for features that depend on it without the features that
 * change it importing them: a connection verified (a save, POST /verify or the sweep passed) lets
 * held work resume; every recorded verification lets alerts follow the status and readiness; a
 * disconnect, inside its own transaction, lets work that can no longer be done be cancelled with it.
 */
@Injectable()
export class ConnectionHooks {
  private readonly logger = new Logger(ConnectionHooks.name);
  private readonly verifiedListeners: VerifiedListener[] = [];
  private readonly disconnectListeners: DisconnectListener[] = [];
  private readonly recordedListeners: RecordedListener[] = [];

  /** Every recorded verification (a save, POST /verify, the sweep), inside its transaction. */
  onRecorded(listener: RecordedListener): void {
    this.recordedListeners.push(listener);
  }

  /** Inside the verification's transaction: a listener's failure rolls it back, so it never half-happens. */
  async recorded(manager: EntityManager, facts: VerificationFacts): Promise<void> {
    for (const listener of this.recordedListeners) await listener(manager, facts);
  }

  onVerified(listener: VerifiedListener): void {
    this.verifiedListeners.push(listener);
  }

  onDisconnect(listener: DisconnectListener): void {
    this.disconnectListeners.push(listener);
  }

  /** After the verification committed; a listener's failure is logged, never the caller's. */
  async verified(orgId: string): Promise<void> {
    for (const listener of this.verifiedListeners) {
      await listener(orgId).catch((error: unknown) =>
        this.logger.error(`After the connection of org ${orgId} was verified: ${(error as Error).message}`),
      );
    }
  }

  /** Inside the disconnect's transaction: a listener's failure rolls the disconnect back. */
  async disconnecting(manager: EntityManager, orgId: string): Promise<void> {
    for (const listener of this.disconnectListeners) await listener(manager, orgId);
  }
}
