import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { problems, type InvalidParam } from './problem';

function flatten(errors: ValidationError[], prefix = ''): InvalidParam[] {
  return errors.flatMap((e) => {
    const name = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((reason) => ({ name, reason }));
    return [...own, ...flatten(e.children ?? [], name)];
  });
}

/**
 * Validates every body and query against its DTO class (class-validator): unknown fields are
 * refused, and each problem becomes an entry of the 400 problem's `errors`.
 */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => problems.validation(flatten(errors)),
  });
}
