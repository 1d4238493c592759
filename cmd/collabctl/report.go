package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
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

Needs to read the CollaborationSpaces, CollaborationPolicies, Namespaces, the
ChatBackends and the backends' credentials Secrets in the credentials
namespace.

Exit status: 0 reported, 1 the spaces or a backend could not be read, 2 bad
arguments.

Flags:
`

type reportFlags struct {
	cluster                      clusterFlags
	output, credentialsNamespace string
	minPeople, maxPages          int
	timeout                      time.Duration
}

func (f *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "text", "output format: text, json, or html (one self-contained page with charts)")
	fs.StringVar(&f.output, "o", "text", "shorthand for --output")
	f.cluster.register(fs)
	fs.StringVar(&f.credentialsNamespace, "credentials-namespace", "collab-operator-system", "the operator's --credentials-namespace")
	fs.IntVar(&f.minPeople, "min-people", insights.DefaultMinPeople, "hide figures resting on fewer people (5 or more)")
	fs.IntVar(&f.maxPages, "max-pages", 20, "read at most this many pages of 100 messages of each room's history")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
}

// reportWindows are the windows a report covers.
var reportWindows = []struct {
	name string
	span time.Duration
}{{"last 7 days", 7 * 24 * time.Hour}, {"last 30 days", 30 * 24 * time.Hour}}

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
	in, err := insightsread.Read(ctx, c, now.Add(-reportWindows[len(reportWindows)-1].span),
		insightsread.Options{Chat: engines.Chat(),
			CredentialsNamespace: flags.credentialsNamespace, MaxPages: flags.maxPages})
	if err != nil {
		say(e.stderr, "%s report: %v\n", e.prog, err)
		return exitFindings
	}
	minPeople := max(flags.minPeople, in.MinPeople) // a policy may raise it
	var reports []insights.Report
	for _, w := range reportWindows {
		reports = append(reports, insights.Compute(in.Org, in.Messages, insights.Window{From: now.Add(-w.span), To: now}, minPeople))
	}
	switch flags.output {
	case "json":
		err = json.NewEncoder(e.stdout).Encode(reports)
	case "html":
		var titled []insights.Titled
		for i, r := range reports {
			titled = append(titled, insights.Titled{Name: reportWindows[i].name, Report: r})
		}
		err = insights.WriteHTML(e.stdout, titled, minPeople)
	default:
		err = writeReport(e.stdout, reports, in.Incomplete, minPeople)
	}
	if err != nil {
		say(e.stderr, "%s report: %v\n", e.prog, err)
		return exitFindings
	}
	return exitOK
}

// writeReport prints each window's figures as tables.
func writeReport(w io.Writer, reports []insights.Report, incomplete []string, minPeople int) error {
	for i, r := range reports {
		say(w, "%s (%s – %s); · rests on fewer than %d people\n\n", reportWindows[i].name,
			r.Window.From.Format(time.DateOnly), r.Window.To.Format(time.DateOnly), minPeople)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		_, _ = fmt.Fprintln(tw, "SPACE\tMESSAGES\tPEOPLE\tBREADTH\tREACH\tREACH SHARE\tANSWERS ACROSS\tLEADERS\t")
		for _, key := range slices.Sorted(maps.Keys(r.Spaces)) {
			s := r.Spaces[key]
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", key, count(s.Messages), count(s.ActivePeople),
				percent(s.Breadth), count(s.Reach), percent(s.ReachShare), count(s.CrossAnswers), percent(s.Leaders))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		say(w, "\nWho answers whom (rows answer columns):\n\n")
		if err := writeMatrix(w, r.Answers); err != nil {
			return err
		}
		say(w, "\nMessages in Open spaces and shared rooms: %s\n\n", percent(r.OpenShare))
	}
	if len(incomplete) > 0 {
		say(w, "Rooms whose history was longer than --max-pages (their oldest messages are not counted): %s\n",
			strings.Join(incomplete, ", "))
	}
	return nil
}

// writeMatrix prints the department matrix of answers.
func writeMatrix(w io.Writer, answers map[string]map[string]insights.Figure) error {
	depts := map[string]bool{}
	for from, row := range answers {
		depts[from] = true
		for to := range row {
			depts[to] = true
		}
	}
	keys := slices.Sorted(maps.Keys(depts))
	if len(keys) == 0 {
		say(w, "No answers in this window.\n")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintf(tw, "FROM \\ TO\t%s\t\n", strings.Join(keys, "\t"))
	for _, from := range keys {
		cells := make([]string, len(keys))
		for i, to := range keys {
			cells[i] = "0"
			if f, ok := answers[from][to]; ok {
				cells[i] = count(f)
			}
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t\n", from, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func count(f insights.Figure) string {
	if f.Suppressed {
		return "·"
	}
	return fmt.Sprintf("%.0f", f.Value)
}

func percent(f insights.Figure) string {
	if f.Suppressed {
		return "·"
	}
	return fmt.Sprintf("%.0f%%", 100*f.Value)
}

// report joins the commands table from its own file.
func init() {
	commands = append(commands, command{name: "report",
		summary: "say whether the organisation talks across departments (7 and 30 days)", run: runReport})
}
