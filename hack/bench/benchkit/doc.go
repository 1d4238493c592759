// Package benchkit is what every mode of hack/bench shares: the workload of
// spaces it creates, the processes' CPU time and peak memory, the API server's
// count of writes by kind, and the progress lines it prints.
package benchkit
