import { semaphoreKeyFor } from '@docflow/workflow-engine';

/**
 * The `docflow-semaphores` key a job's steps take: its owner's own key when the ConfigMap has one (listed in
 * SEMAPHORE_KEYS), otherwise `default`. Argo fails a step whose key is missing, so no other key is ever used.
 * Per owner: the team for a team's job (its concurrent model calls share one cap), the user otherwise.
 */
export function semaphoreKeyForOwner(ownerId: string, configured: readonly string[]): string {
  const own = semaphoreKeyFor(ownerId);
  return configured.includes(own) ? own : 'default';
}
