import { Injectable } from '@nestjs/common';

/** The time source; tests replace it to make time deterministic. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
