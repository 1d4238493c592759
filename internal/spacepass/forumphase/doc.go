// Package forumphase is the phase of a space's pass that owns ForumReady: a
// forum deployed for the department (its workloads, admin Secret and token) or
// its place on a shared ForumBackend, and in either its groups, categories and
// privileges, retired by the deletion policy.
package forumphase
