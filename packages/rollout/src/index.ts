// The rollout control plane: sessions, locks, two-phase steps and their jobs.
export {}
