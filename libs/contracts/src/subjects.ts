/**
 * NATS subjects, `<service>.<entity>.<verb>`. A shipped subject is frozen: changing one is a migration.
 * Request/reply subjects are served by a queue group named after the service, so replicas share the load.
 */
export const UsersDocsSubjects = {
  healthCheck: 'users-docs.health.check',
  userCreate: 'users-docs.user.create',
  userList: 'users-docs.user.list',
  userGet: 'users-docs.user.get',
  userDelete: 'users-docs.user.delete',
  documentCreate: 'users-docs.document.create',
  documentList: 'users-docs.document.list',
  documentGet: 'users-docs.document.get',
  documentDelete: 'users-docs.document.delete',
  storageEventsApply: 'users-docs.storage-event.apply',
} as const;

export type UsersDocsSubject = (typeof UsersDocsSubjects)[keyof typeof UsersDocsSubjects];

/** The queue group each service subscribes with. */
export const QueueGroups = {
  usersDocs: 'users-docs',
} as const;

/** Header that carries the request id through HTTP, NATS and workflow steps. */
export const REQUEST_ID_HEADER = 'x-request-id';
