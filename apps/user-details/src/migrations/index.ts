// Every migration of the user_details schema, in order. A new migration is added here as well.
import { UserDetails1795444897827 } from './1795444897827-UserDetails';
import { DeletedUsers1796285023524 } from './1796285023524-DeletedUsers';

export const migrations = [UserDetails1795444897827, DeletedUsers1796285023524];
