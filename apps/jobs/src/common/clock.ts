import { Injectable } from '@nestjs/common';

/** The time source; tests replace it. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
