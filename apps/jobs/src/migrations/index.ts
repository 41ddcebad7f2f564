// Every migration of the jobs schema, in order. A new migration is added here as well.
import { Jobs1795437981496 } from './1795437981496-Jobs';
import { JobCountersOutbox1795443576069 } from './1795443576069-JobCountersOutbox';
import { Schedules1795444092444 } from './1795444092444-Schedules';
import { JobApiKey1795446556237 } from './1795446556237-JobApiKey';
import { JobRequestHash1796285573435 } from './1796285573435-JobRequestHash';
import { TeamJobs1796316253402 } from './1796316253402-TeamJobs';
import { JobEventStreamSeq1796319295274 } from './1796319295274-JobEventStreamSeq';
import { JobListFilters1796320029626 } from './1796320029626-JobListFilters';
import { JobBatchSize1796320089626 } from './1796320089626-JobBatchSize';

export const migrations = [
  Jobs1795437981496,
  JobCountersOutbox1795443576069,
  Schedules1795444092444,
  JobApiKey1795446556237,
  JobRequestHash1796285573435,
  TeamJobs1796316253402,
  JobEventStreamSeq1796319295274,
  JobListFilters1796320029626,
  JobBatchSize1796320089626,
];
