import { Clock } from '../common/clock';

export class FixedClock extends Clock {
  constructor(private current = new Date('2026-11-23T10:00:00.000Z')) {
    super();
  }
  override now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
