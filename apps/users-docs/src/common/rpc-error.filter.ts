import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';
import { DomainError, ErrorCode, type RpcErrorPayload } from '@docflow/contracts';

/**
 * Turns whatever a handler throws into the `{ code, message, details? }` that crosses NATS.
 * Domain errors keep their code; anything else is logged here and leaves as INTERNAL with no internals.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<RpcErrorPayload> {
    if (exception instanceof DomainError) {
      return throwError(() => exception.toPayload());
    }
    this.logger.error({ msg: 'unhandled error in handler', err: exception });
    return throwError(() => ({ code: ErrorCode.INTERNAL, message: 'Internal error' }));
  }
}
