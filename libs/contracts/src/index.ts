export * from './errors';
export * from './subjects';
export * from './pagination';
export * from './users-docs';
export * from './jobs';
export * from './job-callbacks';
export * from './jobs-api';
export * from './identity-events';
