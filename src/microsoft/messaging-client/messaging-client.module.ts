import { Module } from '@nestjs/common';
import { MicrosoftTransportModule } from '../microsoft-transport.module.js';
import { MessagingClient } from './messaging.client.js';

/** The Omnichannel Messaging API of an org's Dynamics 365 Contact Center. */
@Module({ imports: [MicrosoftTransportModule], providers: [MessagingClient], exports: [MessagingClient] })
export class MessagingClientModule {}
