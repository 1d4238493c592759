// Command collabctl works with collab-operator manifests. Installed as
// kubectl-collab on the PATH it is also the kubectl plugin `kubectl collab`.
//
// Subcommands live in the commands table, one file each, so that `plan` can
// join `validate` without touching the dispatch.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Exit codes, the same for every subcommand.
const (
	exitOK = 0
	// exitFindings: the check ran and found errors.
	exitFindings = 1
	// exitUsage: bad flags or arguments, or an input that cannot be read.
	exitUsage = 2
)

// env is what a subcommand may touch, so tests can run it in-process.
type env struct {
	// prog is how the user called us: "collabctl" or "kubectl collab".
	prog   string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

// commands lists the subcommands in the order help shows them.
var commands = []command{
	{name: "validate", summary: "check manifests offline against the CRDs and against each other", run: runValidate},
}

func main() {
	e := env{prog: progName(os.Args[0]), stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(context.Background(), e, os.Args[1:]))
}

// progName is "kubectl collab" when kubectl runs us as its plugin
// kubectl-collab, so that usage lines show what the user typed.
func progName(arg0 string) string {
	name := strings.TrimSuffix(filepath.Base(arg0), ".exe")
	if rest, ok := strings.CutPrefix(name, "kubectl-"); ok {
		return "kubectl " + strings.ReplaceAll(rest, "_", "-")
	}
	return name
}

// run dispatches args to a subcommand and returns the exit code.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr, e.prog)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help":
		usage(e.stdout, e.prog)
		return exitOK
	case "help":
		if len(args) > 1 {
			return run(ctx, e, []string{args[1], "--help"})
		}
		usage(e.stdout, e.prog)
		return exitOK
	default:
		for _, c := range commands {
			if c.name == name {
				return c.run(ctx, e, args[1:])
			}
		}
		say(e.stderr, "%s: unknown command %q\n\n", e.prog, name)
		usage(e.stderr, e.prog)
		return exitUsage
	}
}

func usage(w io.Writer, prog string) {
	say(w, "%s works with collab-operator manifests.\n\nUsage:\n  %s <command> [flags] [args]\n\nCommands:\n", prog, prog)
	for _, c := range commands {
		say(w, "  %-10s %s\n", c.name, c.summary)
	}
	say(w, "\nRun '%s <command> --help' for a command's flags.\n", prog)
}

// say writes a message for the user. A message that cannot be written has
// nowhere else to go, so its error is dropped; results go through printText
// or printJSON, which report theirs.
func say(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
