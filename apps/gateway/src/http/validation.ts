import { ParseUUIDPipe, ValidationPipe, type PipeTransform, type ValidationError } from '@nestjs/common';
import { DomainError, ErrorCode, type FieldError } from '@docflow/contracts';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      out.push({ field, message: message.replace(new RegExp(`^${error.property} `), '') });
    }
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}

/** Unknown fields rejected, types converted, every problem named by its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
      return new DomainError(ErrorCode.VALIDATION_FAILED, summary || 'Invalid request', details);
    },
  });
}

/**
 * A path parameter that must be a UUID; anything else is a 400 naming the parameter. The value is
 * lower-cased: ids are compared, and object keys are built, in their canonical form.
 */
export function uuidParam(name: string): PipeTransform<string, Promise<string>> {
  const pipe = new ParseUUIDPipe({ exceptionFactory: () => DomainError.validation(name, 'must be a UUID') });
  return {
    async transform(value, metadata) {
      return (await pipe.transform(value, metadata)).toLowerCase();
    },
  };
}
