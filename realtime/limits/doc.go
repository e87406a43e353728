// Package limits enforces per-subject rate limits and per-key token quotas for every
// transport alike: a REST route's middleware and a socket's create event draw from
// the same counters (docs/operations.md, "Rate limits" and "Token quotas").
//
// A subject is the API key, else the JWT user, else the client IP; every route and
// socket event belongs to one group (GroupGeneration, GroupStream, GroupCompletion,
// GroupOps, GroupAuth, GroupDefault) with its own fixed-window rule. With Redis the
// counters are shared by all replicas (ulule/limiter's Redis store); without it, or
// while Redis fails, each replica counts in memory (limits_store.go). Quotas count
// tokens per key per minute and per day, charged from the request log as rows are
// written (quota_log.go).
//
// limits imports realtime (Caller, the catalogue) and Redis; realtime never imports it.
package limits
