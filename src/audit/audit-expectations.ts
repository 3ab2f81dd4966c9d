import { Injectable } from '@nestjs/common';

type Check = (orgId: string) => Promise<string | null>;

/**
 * What other features know of an org that it could not have without audit events (a stored
 * connection is written with one): when its chain is empty, the check reports it erased.
 */
@Injectable()
export class AuditExpectations {
  private readonly checks: Check[] = [];

  /** Registers a check that names what of the org implies audit events (null: nothing). */
  expectChainWhen(check: Check): void {
    this.checks.push(check);
  }

  /** What of the org implies audit events, or null. */
  async evidenceOf(orgId: string): Promise<string | null> {
    for (const check of this.checks) {
      const found = await check(orgId);
      if (found) return found;
    }
    return null;
  }
}
