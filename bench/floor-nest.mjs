// The floor of the read-path benchmark through NestJS: Nest 12 on its Fastify adapter answering a
// constant from a controller, with no guard, interceptor, pipe, logger or hook of ours. Decorators are
// applied as functions so that this file runs as plain JavaScript.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

class FloorController {
  ready() {
    return { status: 'ok' };
  }
  constant() {
    return { ok: true };
  }
}
const route = (path, name) =>
  Get(path)(
    FloorController.prototype,
    name,
    Object.getOwnPropertyDescriptor(FloorController.prototype, name),
  );
route('health/ready', 'ready');
route('constant', 'constant');
Controller()(FloorController);
class FloorModule {}
Module({ controllers: [FloorController] })(FloorModule);

const app = await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false });
await app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
