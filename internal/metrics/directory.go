package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// DirectoryQueries counts requests to directories (binds and searches, each
	// page counted).
	DirectoryQueries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_directory_queries_total",
		Help: "Requests to people directories (binds and searches, each page counted), by directory.",
	}, []string{"directory"})

	// DirectoryResolutions counts full resolutions of a directory's groups, by
	// why they ran: changed (the change token moved), full (the full-sync
	// interval passed, or the source cannot tell), groups (spaces asked for
	// other groups).
	DirectoryResolutions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_directory_resolutions_total",
		Help: "Full reads of a directory's groups, by directory and reason.",
	}, []string{"directory", "reason"})

	// SpacePeople is how many people a space's Group members resolved to: one
	// series a space. By role it was three, and with each space's joins 40,000
	// series, about 9 MiB at 10,000 spaces. status.members.counts has the roles.
	SpacePeople = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_space_people",
		Help: "People a CollaborationSpace's Group members resolved to (status.members.counts has them by role).",
	}, []string{"namespace", "name"})

	// MemberChanges counts people who joined or left spaces through their
	// groups, by directory: who joined or left which space is in the space's
	// events (MembersJoined, MembersLeft) and status.
	MemberChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "collab_member_changes_total",
		Help: "People who joined or left CollaborationSpaces through their Group members, by PeopleDirectory.",
	}, []string{"directory", "change"})

	// RemovalsHeld is how many removals a space's removal budget holds back.
	RemovalsHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "collab_removals_held",
		Help: "Removals past a CollaborationSpace's removal budget, waiting for the hour to pass or for approval.",
	}, []string{"namespace", "name"})
)

func init() {
	crmetrics.Registry.MustRegister(DirectoryQueries, DirectoryResolutions, SpacePeople, MemberChanges, RemovalsHeld)
}
