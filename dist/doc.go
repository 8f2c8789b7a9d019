// Package dist runs rollouts on other processes and machines over NATS
// JetStream. The trainer (Source, an rl.RolloutSource) publishes each
// prompt group of a step as a WorkItem (prompt, its index in the step, the
// policy version, the whole rl.RolloutConfig) to a work queue; rollout
// workers (Worker) pull items, roll each out with rl.Roller.RolloutAt (the
// code a single-process run uses) and publish a Result (the group's tree,
// trajectories and counts); the trainer checks, deduplicates and assembles
// them in prompt order. Policy weights go to the JetStream object store
// under their version; a worker fetches a version once and keeps it.
//
// Synchronous mode (the default) gives the single-process run's bits: the
// generators are seeded by (seed, step, prompt index) and the engine is
// batch-invariant (EngineOptions), so a group does not depend on which
// worker took it or what else that worker ran. Asynchronous mode
// (SourceOptions.MaxStaleness) publishes the next steps' groups ahead; the
// loss's ratio uses the stored behaviour log-probs, and StepInfo records
// each group's staleness.
//
// Faults: an item whose worker dies stops being heartbeated and is
// redelivered after the ack wait; a restarted trainer reattaches to its
// durable result consumer, drops duplicates and republishes what it needs.
// Malformed messages are logged and dropped, never trusted.
//
// StartEmbedded runs a server in-process (the one-machine default of
// cmd/train --workers N); a cluster is the same code with a URL.
package dist
