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
    const pg = exception as {
      name?: string;
      message?: string;
      code?: string;
      driverError?: { code?: string };
    };
    const code = pg?.code ?? pg?.driverError?.code;
    // Class 22 is "data exception": a value the database cannot store. Input validation should have caught
    // it; it is still the caller's input, not our failure.
    if (pg?.name === 'QueryFailedError' && typeof code === 'string' && code.startsWith('22')) {
      this.logger.warn({ msg: 'database refused a value', code, error: pg.message });
      return throwError(() => ({
        code: ErrorCode.VALIDATION_FAILED,
        message: 'A value in the request cannot be stored',
      }));
    }
    // Only name, message and code: a query error also carries the query's parameters (emails, names).
    this.logger.error({
      msg: 'unhandled error in handler',
      error: { name: pg?.name, message: pg?.message, code },
    });
    return throwError(() => ({ code: ErrorCode.INTERNAL, message: 'Internal error' }));
  }
}
