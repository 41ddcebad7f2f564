import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { REQUEST_ID_HEADER } from '@docflow/contracts';
import { requestIdFrom, runWithRequestContext } from '@docflow/observability';

/** Binds the request id from the NATS headers to everything the handler does (logs, outgoing calls). */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const nats = context.switchToRpc().getContext<NatsContext>();
    const headers = typeof nats?.getHeaders === 'function' ? nats.getHeaders() : undefined;
    const requestId = requestIdFrom(headers?.get(REQUEST_ID_HEADER));
    return new Observable((subscriber) =>
      runWithRequestContext({ requestId }, () => next.handle().subscribe(subscriber)),
    );
  }
}
