export * from './storage';
export * from './storage-config';
