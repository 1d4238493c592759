// Package managerbench holds the modes of hack/bench that run the manager as a
// process of its own and measure it from outside, as a platform team would:
// -mode secrets (does its memory grow with tenants' Secrets), -mode directory
// (a 10,000-person directory on a real slapd) and -mode scale (thousands of
// departments on one manager, or on shards).
package managerbench
