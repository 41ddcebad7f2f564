import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'docflow:isPublic';

/** Marks a route as reachable without authentication. Every other route is guarded. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
