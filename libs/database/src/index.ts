export * from './data-source';
export * from './cursor';
export * from './outbox';
