// Every migration of the users-docs schema, in order. A new migration is added here as well.
import { Init1795434386844 } from './1795434386844-Init';
import { JobOutputs1795437589660 } from './1795437589660-JobOutputs';
import { TeamDocuments1796316138138 } from './1796316138138-TeamDocuments';

export const migrations = [Init1795434386844, JobOutputs1795437589660, TeamDocuments1796316138138];
