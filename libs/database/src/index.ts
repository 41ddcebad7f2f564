export * from './data-source';
export * from './cursor';
