// Every migration of the user_details schema, in order. A new migration is added here as well.
import { UserDetails1795444897827 } from './1795444897827-UserDetails';

export const migrations = [UserDetails1795444897827];
