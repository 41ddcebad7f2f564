export * from './roles';
export * from './scopes';
export * from './policy';
