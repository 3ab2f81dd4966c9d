import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'access:public';

/** Marks a route that needs no bearer token (health, metrics). Everything else requires one. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
