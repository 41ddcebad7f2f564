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
  /**
   * Removes the record of an address whose signup crashed halfway (identity has no account for it): only one
   * older than `createdBefore` and holding no document. Identity's, at signup.
   */
  userReclaim: 'users-docs.user.reclaim',
  documentCreate: 'users-docs.document.create',
  documentList: 'users-docs.document.list',
  documentGet: 'users-docs.document.get',
  documentDelete: 'users-docs.document.delete',
  storageEventsApply: 'users-docs.storage-event.apply',
  /** A job's documents, checked: the user's own, uploaded. */
  documentResolve: 'users-docs.document.resolve',
  /** Registers a job's output object as a document of the user (kind `output`). */
  documentRegisterOutput: 'users-docs.document.register-output',
} as const;

export type UsersDocsSubject = (typeof UsersDocsSubjects)[keyof typeof UsersDocsSubjects];

/** The queue group each service subscribes with. */
export const QueueGroups = {
  usersDocs: 'users-docs',
  keyVault: 'key-vault',
  userDetails: 'user-details',
  identity: 'identity',
} as const;

/** Header that carries the request id through HTTP, NATS and workflow steps. */
export const REQUEST_ID_HEADER = 'x-request-id';
