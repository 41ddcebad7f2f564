// Every migration of the identity schema, in order. A new migration is added here as well.
import { Identity1795443720915 } from './1795443720915-Identity';

export const migrations = [Identity1795443720915];
