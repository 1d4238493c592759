package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers/chatbackend/reaper"
	"github.com/opencommons/collab-operator/internal/engines"
)

const orphansHelp = `Usage:
  %[1]s orphans [flags]

Lists the rooms the operator's account is in on each ChatBackend that no
CollaborationSpace records, and what the orphan reaper would do with each on
its next run under the backend's spec.reaper: adopt it (point its free alias
back at it), delete it (a duplicate or half-made room that nobody but the
operator was ever in), keep it (people were in it, or a space room lists it:
never deleted), report it (spec.reaper.mode forbids acting), or wait (too
young to judge). It runs the reaper's own code with a chat client that
records writes instead of making them, and changes nothing. The hourly
deletion cap is counted from zero: the operator may hold some deletions the
listing shows.

Needs to read the ChatBackends, the CollaborationSpaces and the backends'
credentials Secrets in the credentials namespace.

Exit status: 0 listed, 1 a backend could not be read, 2 bad arguments.

Flags:
`

type orphansFlags struct {
	cluster                               clusterFlags
	output, backend, credentialsNamespace string
	grace, timeout                        time.Duration
	all                                   bool
}

func (f *orphansFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "text", "output format: text or json")
	fs.StringVar(&f.output, "o", "text", "shorthand for --output")
	f.cluster.register(fs)
	fs.StringVar(&f.backend, "backend", "", "list one ChatBackend only (default: all)")
	fs.StringVar(&f.credentialsNamespace, "credentials-namespace", "collab-operator-system", "the operator's --credentials-namespace")
	fs.DurationVar(&f.grace, "orphan-grace", 2*time.Minute, "the operator's --orphan-grace")
	fs.BoolVar(&f.all, "all", false, "also list rooms that are not orphans (someone else's, archived, found by their alias)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
}

// runOrphans is `collabctl orphans`.
func runOrphans(ctx context.Context, e env, args []string) int {
	var flags orphansFlags
	fs := flag.NewFlagSet("orphans", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	flags.register(fs)
	fs.Usage = func() { say(fs.Output(), orphansHelp, e.prog); fs.PrintDefaults() }
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	case fs.NArg() > 0 || (flags.output != "text" && flags.output != "json"):
		say(e.stderr, "%s orphans: takes no arguments, and -o must be text or json\n", e.prog)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, flags.timeout)
	defer cancel()
	c, err := clusterClient(flags.cluster.config())
	if err != nil {
		say(e.stderr, "%s orphans: %v\n", e.prog, err)
		return exitFindings
	}
	listed, failed := listOrphans(ctx, e, c, flags)
	if err := writeOrphans(e.stdout, flags.output, listed); err != nil {
		say(e.stderr, "%s orphans: %v\n", e.prog, err)
		return exitFindings
	}
	if failed {
		return exitFindings
	}
	return exitOK
}

// backendOrphans are the verdicts of one backend.
type backendOrphans struct {
	Backend string                 `json:"backend"`
	Rooms   []reaper.OrphanVerdict `json:"rooms"`
}

// listOrphans lists each backend's orphans; failed is set when one could not be read.
func listOrphans(ctx context.Context, e env, c client.WithWatch, flags orphansFlags) (out []backendOrphans, failed bool) {
	names := []string{flags.backend}
	if flags.backend == "" {
		var backends collabv1.ChatBackendList
		if err := c.List(ctx, &backends); err != nil {
			say(e.stderr, "%s orphans: cannot list ChatBackends: %v\n", e.prog, err)
			return nil, true
		}
		names = names[:0]
		for _, b := range backends.Items {
			names = append(names, b.Name)
		}
	}
	opts := reaper.OrphanOptions{Chat: engines.Chat(),
		CredentialsNamespace: flags.credentialsNamespace, Grace: flags.grace}
	for _, name := range names {
		verdicts, err := reaper.ListOrphans(ctx, c, name, opts)
		if err != nil {
			say(e.stderr, "%s orphans: %v\n", e.prog, err) // ListOrphans's errors name the backend
			failed = true
			continue
		}
		b := backendOrphans{Backend: name, Rooms: []reaper.OrphanVerdict{}}
		for _, v := range verdicts {
			if flags.all || v.Action != "Ignore" {
				b.Rooms = append(b.Rooms, v)
			}
		}
		out = append(out, b)
	}
	return out, failed
}

func writeOrphans(w io.Writer, output string, listed []backendOrphans) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(listed)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	say(tw, "BACKEND\tROOM\tALIAS\tSPACE\tWOULD\tWHY\n")
	for _, b := range listed {
		if len(b.Rooms) == 0 {
			say(tw, "%s\t-\t-\t-\t-\tno room the operator is in is unrecorded\n", b.Backend)
		}
		for _, r := range b.Rooms {
			say(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Backend, r.RoomID, orDash(r.Alias), orDash(r.Owner), r.Action, r.Verdict)
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// orphans joins the commands table from its own file.
func init() {
	commands = append(commands, command{name: "orphans",
		summary: "list the rooms no space records and what the reaper would do with them", run: runOrphans})
}
