package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/opencommons/collab-operator/internal/validate"
)

const validateHelp = `Usage:
  %[1]s validate [flags] FILE|DIR|- ...

Checks collab-operator manifests offline, as the API server would: the CRDs'
OpenAPI schema and CEL rules, after defaulting. A file holding an object and
then the same object again is checked as that update (transition rules such as
"backendRef is immutable"). Then checks what no single object can show, with
the names the operator's own planners give: aliases two objects would claim on
one chat server (#<namespace>.<space>[.<room>], directory spaces), group names
two spaces would claim on one shared forum, departments claimed twice (a
warning), and sharedWith references to spaces that are not among the files.

Directories are walked for *.yaml and *.yml, skipping kustomization.yaml and
hidden directories; "-" reads standard input (e.g. kustomize build | ...).
Objects of other API groups (Namespace, Secret...) are ignored.

With --policy FILE|DIR (repeatable), each space is also judged by the
CollaborationPolicies there, as the API server's admission policies would
judge it on create, in the same words: the policies that select the space's
namespace (by the labels of its Namespace manifest, from either set of files),
and the namespaceSelector of the ChatBackends and ForumBackends in either.

With -o markdown, prints what a pull request comment shows: a heading, a
table of the findings (file:line, field, message) and a summary line, or "No
findings" when there are none.

Exit status: 0 when there is no error (warnings do not count), 1 when there
is, 2 when the arguments or a file cannot be used.

Flags:
`

// validateFlags are the flags of the validate subcommand.
type validateFlags struct {
	output     string
	namespace  string
	strictRefs bool
	policies   pathList
}

// pathList is a repeatable flag of paths.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

func (f *validateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "text", "output format: text (file:line: field: message), json, or markdown (a pull request comment)")
	fs.StringVar(&f.output, "o", "text", "shorthand for --output")
	fs.StringVar(&f.namespace, "namespace", "default", "namespace of namespaced objects that name none, as kubectl's current namespace")
	fs.StringVar(&f.namespace, "n", "default", "shorthand for --namespace")
	fs.BoolVar(&f.strictRefs, "strict-refs", false, "make a sharedWith reference to a space not among the files an error, not a warning")
	fs.Var(&f.policies, "policy", "judge the spaces by the CollaborationPolicies (and backends, Namespaces) in this file or directory; repeatable")
}

// runValidate is `collabctl validate`.
func runValidate(ctx context.Context, e env, args []string) int {
	var flags validateFlags
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	flags.register(fs)
	fs.Usage = func() {} // the flag package's error is enough; help is asked for
	paths, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		say(e.stdout, validateHelp, e.prog)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		return exitOK
	case err != nil: // the flag package has said why
		say(e.stderr, "Run '%s validate --help' for usage.\n", e.prog)
		return exitUsage
	case len(paths) == 0:
		say(e.stderr, "%s validate: no FILE, DIR or - given\n", e.prog)
		return exitUsage
	case flags.output != "text" && flags.output != "json" && flags.output != "markdown":
		say(e.stderr, "%s validate: -o must be text, json or markdown, not %q\n", e.prog, flags.output)
		return exitUsage
	}
	return validatePaths(ctx, e, flags, paths)
}

// validatePaths checks paths and prints the report.
func validatePaths(ctx context.Context, e env, flags validateFlags, paths []string) int {
	v, err := validate.New()
	if err != nil {
		say(e.stderr, "%s validate: cannot load the CRDs: %v\n", e.prog, err)
		return exitUsage
	}
	inputs, err := validate.ReadInputs(paths, e.stdin)
	if err != nil {
		say(e.stderr, "%s validate: %v\n", e.prog, err)
		return exitUsage
	}
	opts := validate.Options{Namespace: flags.namespace, StrictRefs: flags.strictRefs}
	if len(flags.policies) > 0 {
		if opts.Policies, err = validate.ReadInputs(flags.policies, e.stdin); err != nil {
			say(e.stderr, "%s validate: --policy: %v\n", e.prog, err)
			return exitUsage
		}
	}
	report := v.Check(ctx, inputs, opts)
	switch flags.output {
	case "json":
		err = printJSON(e.stdout, report.Findings)
	case "markdown":
		err = printMarkdown(e.stdout, report)
	default:
		err = printText(e.stdout, e.stderr, report)
	}
	if err != nil {
		say(e.stderr, "%s validate: %v\n", e.prog, err)
		return exitUsage
	}
	if validate.HasErrors(report.Findings) {
		return exitFindings
	}
	return exitOK
}

// printText writes one file:line line per finding to stdout, and a summary to
// stderr so that stdout holds only findings.
func printText(stdout, stderr io.Writer, report validate.Report) error {
	for _, f := range report.Findings {
		if _, err := fmt.Fprintln(stdout, f); err != nil {
			return err
		}
	}
	say(stderr, "%s\n", summary(report))
	return nil
}

// summary is "1 error, 2 warnings in 3 files (4 objects checked)".
func summary(report validate.Report) string {
	errs, warnings := 0, 0
	for _, f := range report.Findings {
		if f.Severity == validate.SeverityError {
			errs++
		} else {
			warnings++
		}
	}
	return fmt.Sprintf("%d %s, %d %s in %d %s (%d %s checked)",
		errs, plural(errs, "error"), warnings, plural(warnings, "warning"),
		report.Files, plural(report.Files, "file"), report.Objects, plural(report.Objects, "object"))
}

// printMarkdown writes the report as a pull request comment: a heading, a
// table of the findings (a warning's message starts with "warning:") and the
// summary, or "No findings" and the summary.
func printMarkdown(w io.Writer, report validate.Report) error {
	var b strings.Builder
	b.WriteString("### collabctl validate\n\n")
	if len(report.Findings) == 0 {
		fmt.Fprintf(&b, "No findings: %s.\n", summary(report))
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| File | Field | Message |\n| --- | --- | --- |\n")
	for _, f := range report.Findings {
		msg := f.Message
		if f.Severity == validate.SeverityWarning {
			msg = "warning: " + msg
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n",
			markdownCode(fmt.Sprintf("%s:%d", f.File, f.Line)), markdownCode(f.Field), markdownCell(msg))
	}
	fmt.Fprintf(&b, "\n**%s**\n", summary(report))
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownCell makes s safe in a table cell: one line, pipes escaped, and
// nothing a renderer would take for markup or HTML.
func markdownCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return markdownEscaper.Replace(s)
}

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`,
	"[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
)

// markdownCode is s as inline code in a table cell, or empty for "".
func markdownCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.Join(strings.Fields(s), " ")
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, "`", "'"), "|", `\|`) + "`"
}

// printJSON writes the findings as a JSON array, [] when there are none.
func printJSON(w io.Writer, findings []validate.Finding) error {
	if findings == nil {
		findings = []validate.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(findings)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// parseInterspersed parses flags anywhere among the arguments, so that
// `validate dir/ -o json` works as it does with kubectl; the flag package alone
// stops at the first argument. Everything after "--" is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
