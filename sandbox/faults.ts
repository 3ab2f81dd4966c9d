import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Fault } from './model.js';

/**
 * Applies the delivery part of a fault (latency, hang, reset). Returns `connection-closed` when
 * no HTTP answer must follow; the caller then answers with the fault's status, if any.
 */
export async function applyFault(
  fault: Fault,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<'connection-closed' | 'continue'> {
  if (fault.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
  if (fault.reset) {
    request.raw.socket.destroy();
    reply.hijack();
    return 'connection-closed';
  }
  if (fault.hang) {
    reply.hijack();
    // Keep the socket open until the client gives up (its timeout) or the server closes.
    await new Promise<void>((resolve) => {
      request.raw.socket.once('close', () => resolve());
    });
    return 'connection-closed';
  }
  return 'continue';
}
