export * from './service-client';
export * from './nats-rpc.client';
export * from './rpc-error.filter';
export * from './request-context.interceptor';
export * from './streams';
export * from './health-server';
export * from './durable-consumer';
export * from './quota-source';
