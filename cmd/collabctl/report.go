package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"slices"
	"time"

	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/insights"
	"github.com/opencommons/collab-operator/internal/insightsread"
)

const reportHelp = `Usage:
  %[1]s report [flags]

Says whether the organisation talks across its departments, over the last 7
and 30 days: per space, the messages in its rooms and the people who sent
them, the share of its own people who took part (breadth), the people of
other departments who took part and their share of its messages (reach),
answers across departments, and the share of its Owners who took part; for
the organisation, who answers whom by department and the share of messages
sent in Open spaces and shared rooms.

It reads who sent which message when, and which message it answers, from
each room's history with the ChatBackend's account: never what a message
says. A figure resting on fewer than --min-people people is hidden (·); a
CollaborationPolicy may raise that minimum (spec.insights.minPeople) and keep
the spaces it selects out of the report (spec.insights.enabled: false), as a
space may itself (spec.insights.enabled: false).
-o html writes one self-contained page with the charts, to share:
  %[1]s report -o html > openness.html

It counts the topics and posts of each space's forum categories too, from the
forum's recent posts: a shared forum's (ForumBackend) and a deployed forum's,
whose API is reached at its Service in the cluster unless
--forum-endpoint-override says where.

Needs to read the CollaborationSpaces, CollaborationPolicies, Namespaces, the
ChatBackends and ForumBackends, the backends' credentials Secrets in the
credentials namespace, and the deployed forums' admin Secrets.

Exit status: 0 reported, 1 the spaces or a backend could not be read, 2 bad
arguments.

Flags:
`

type reportFlags struct {
	cluster                      clusterFlags
	output, credentialsNamespace string
	forumEndpoint                string
	minPeople, maxPages          int
	timeout                      time.Duration
}

func (f *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "text", "output format: text, json, or html (one self-contained page with charts)")
	fs.StringVar(&f.output, "o", "text", "shorthand for --output")
	f.cluster.register(fs)
	fs.StringVar(&f.credentialsNamespace, "credentials-namespace", "collab-operator-system", "the operator's --credentials-namespace")
	fs.StringVar(&f.forumEndpoint, "forum-endpoint-override", "", "reach every deployed forum's API at this URL (the manager's --forum-endpoint-override)")
	fs.IntVar(&f.minPeople, "min-people", insights.DefaultMinPeople, "hide figures resting on fewer people (5 or more)")
	fs.IntVar(&f.maxPages, "max-pages", 20, "read at most this many pages of 100 messages of each room's history")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
}

// reportWindows are the windows a report covers.
// (whole UTC days, as the manager counts them: today and the days before).
var reportWindows = []struct {
	name string
	days int
}{{"last 7 days", 7}, {"last 30 days", 30}}

// runReport is `collabctl report`.
func runReport(ctx context.Context, e env, args []string) int {
	var flags reportFlags
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	flags.register(fs)
	fs.Usage = func() { say(fs.Output(), reportHelp, e.prog); fs.PrintDefaults() }
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	case fs.NArg() > 0 || (flags.output != "text" && flags.output != "json" && flags.output != "html"):
		say(e.stderr, "%s report: takes no arguments, and -o must be text, json or html\n", e.prog)
		return exitUsage
	case flags.minPeople < insights.DefaultMinPeople:
		say(e.stderr, "%s report: --min-people may be raised, not lowered below %d\n", e.prog, insights.DefaultMinPeople)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, flags.timeout)
	defer cancel()
	c, err := clusterClient(flags.cluster.config())
	if err != nil {
		say(e.stderr, "%s report: %v\n", e.prog, err)
		return exitFindings
	}
	now := time.Now()
	in, err := insightsread.Read(ctx, c, insights.LastDays(now, reportWindows[len(reportWindows)-1].days).From,
		insightsread.Options{Chat: engines.Chat(), Forum: engines.Forum(), ForumEndpointOverride: flags.forumEndpoint,
			CredentialsNamespace: flags.credentialsNamespace, MaxPages: flags.maxPages})
	if err != nil {
		say(e.stderr, "%s report: %v\n", e.prog, err)
		return exitFindings
	}
	for _, key := range slices.Sorted(maps.Keys(in.Unread)) {
		say(e.stderr, "%s report: %s is not counted: %s\n", e.prog, key, in.Unread[key])
	}
	minPeople := max(flags.minPeople, in.MinPeople) // a policy may raise it
	var reports []insights.Report
	var titled []insights.Titled
	for _, w := range reportWindows {
		r := insights.Compute(in.Org, in.Messages, insights.LastDays(now, w.days), minPeople)
		insights.CountPosts(&r, in.Org, in.Posts, insights.LastDays(now, w.days), minPeople)
		reports = append(reports, r)
		titled = append(titled, insights.Titled{Name: w.name, Report: r})
	}
	switch flags.output {
	case "json":
		err = json.NewEncoder(e.stdout).Encode(reports)
	case "html":
		err = insights.WriteHTML(e.stdout, titled, minPeople)
	default:
		err = insights.WriteText(e.stdout, titled, in.Incomplete, minPeople)
	}
	if err != nil {
		say(e.stderr, "%s report: %v\n", e.prog, err)
		return exitFindings
	}
	return exitOK
}

// report joins the commands table from its own file.
func init() {
	commands = append(commands, command{name: "report",
		summary: "say whether the organisation talks across departments (7 and 30 days)", run: runReport})
}
