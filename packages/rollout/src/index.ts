export {
  getJob,
  type JobInput,
  type JobOutcome,
  listJobs,
  type RolloutContext,
  type RolloutJob,
  recordJob,
} from './jobs.js'
