import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, type ErrorResponseBody } from '@docflow/contracts';
import { errorCodeForStatus, httpStatusFor } from './http-status';

export interface ErrorResponse {
  status: number;
  body: ErrorResponseBody;
}

const logger = new Logger('HttpErrors');

/**
 * The one translation from anything thrown to `{ error: { code, message, details?, requestId } }`.
 * 5xx bodies never carry internals; the cause is logged with the request id instead.
 */
export function toErrorResponse(exception: unknown, requestId: string): ErrorResponse {
  if (exception instanceof DomainError) {
    const status = httpStatusFor(exception.code, exception.details);
    const internal = status >= 500 && exception.code === ErrorCode.INTERNAL;
    if (status >= 500)
      logger.warn({ msg: 'request failed', code: exception.code, error: exception.message, requestId });
    return {
      status,
      body: {
        error: {
          code: exception.code,
          message: internal ? 'Internal error' : exception.message,
          ...(exception.details !== undefined && status < 500 ? { details: exception.details } : {}),
          requestId,
        },
      },
    };
  }
  const frameworkStatus =
    exception instanceof HttpException
      ? exception.getStatus()
      : typeof (exception as { statusCode?: unknown })?.statusCode === 'number'
        ? (exception as { statusCode: number }).statusCode
        : 500;
  if (frameworkStatus >= 400 && frameworkStatus < 500) {
    const message =
      exception instanceof HttpException
        ? exception.message
        : String((exception as { message?: unknown }).message ?? 'Bad request');
    return {
      status: frameworkStatus,
      body: { error: { code: errorCodeForStatus(frameworkStatus), message, requestId } },
    };
  }
  logger.error({ msg: 'unhandled error', err: exception, requestId });
  return { status: 500, body: { error: { code: ErrorCode.INTERNAL, message: 'Internal error', requestId } } };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body } = toErrorResponse(exception, String(request.id));
    const retryAfter = (body.error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number')
      void reply.header('retry-after', String(retryAfter));
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
