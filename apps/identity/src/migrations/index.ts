// Every migration of the identity schema, in order. A new migration is added here as well.
import { Identity1795443720915 } from './1795443720915-Identity';
import { DefaultTeams1795449383538 } from './1795449383538-DefaultTeams';
import { AuditTeamId1796316441219 } from './1796316441219-AuditTeamId';

export const migrations = [Identity1795443720915, DefaultTeams1795449383538, AuditTeamId1796316441219];
