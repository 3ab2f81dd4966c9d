// The customers' later messages waiting to be relayed (sealed; deleted once relayed).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { HandoffCustomerMessage } from './handoff-customer-message.entity.js';

@Injectable()
export class HandoffCustomerMessageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, message: HandoffCustomerMessage): Promise<void> {
    await manager.insert(HandoffCustomerMessage, message);
  }

  find(id: string): Promise<HandoffCustomerMessage | null> {
    return this.dataSource.manager.findOneBy(HandoffCustomerMessage, { id });
  }

  async delete(id: string): Promise<void> {
    await this.dataSource.manager.delete(HandoffCustomerMessage, { id });
  }
}
