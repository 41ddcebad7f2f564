export * from './embedded-services';
export * from './local-s3-server';
export * from './platform';
export * from './ports';
export * from './supervisor';
export * from './test-environment';
export * from './wait-for';
