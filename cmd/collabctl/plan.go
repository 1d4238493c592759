package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/controllers"
	"github.com/opencommons/collab-operator/internal/dryrun"
	"github.com/opencommons/collab-operator/internal/validate"
)

const planHelp = `Usage:
  %[1]s plan [flags] FILE|DIR|- ...

Shows what the operator would do if the CollaborationSpaces in the files were
applied: the Roles and RoleBindings it would create, change or delete, the
rooms it would create, the topics, members and links it would change, the
rooms and categories it would archive. It reads the live cluster (with the
current kubeconfig) and the chat and forum backends the spaces use, and writes
to none of them: it runs the operator's own reconcile code with clients that
record writes instead of making them.

The files are validated first (see '%[1]s validate'); invalid input is not
planned. Objects other than CollaborationSpaces are ignored.

Needs get on CollaborationSpaces, ChatBackends, ForumBackends, Roles,
RoleBindings and the backends' credentials Secrets, list on Roles and
RoleBindings; see docs/collabctl-plan.md.

Exit status: 0 when the plan was made (with or without changes), 1 when the
input is invalid or a backend could not be read, 2 for bad arguments. With
--exit-code, 2 also means "there are changes" (like terraform plan
-detailed-exitcode).

Flags:
`

type planFlags struct {
	output, namespace, kubeconfig, context string
	operatorNamespace                      string
	forumEndpoint                          string
	maxRemovals                            int
	exitCode                               bool
	timeout                                time.Duration
}

func (f *planFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "text", "output format: text, json or markdown")
	fs.StringVar(&f.output, "o", "text", "shorthand for --output")
	fs.StringVar(&f.namespace, "namespace", "", "namespace of spaces that name none (default: the kubeconfig context's)")
	fs.StringVar(&f.namespace, "n", "", "shorthand for --namespace")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to use")
	fs.StringVar(&f.operatorNamespace, "operator-namespace", "collab-operator-system", "the operator's --operator-namespace")
	fs.StringVar(&f.forumEndpoint, "forum-endpoint-override", "", "the operator's --forum-endpoint-override")
	fs.IntVar(&f.maxRemovals, "max-member-removals", 5, "the operator's --max-member-removals")
	fs.BoolVar(&f.exitCode, "exit-code", false, "exit 3 when there are changes")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
}

// parsePlanArgs reads plan's flags and arguments; ok is false when runPlan should
// exit with code at once (help, or a usage error already reported).
func parsePlanArgs(e env, args []string) (flags planFlags, paths []string, code int, ok bool) {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	flags.register(fs)
	fs.Usage = func() {}
	paths, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		say(e.stdout, planHelp, e.prog)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		return flags, nil, exitOK, false
	case err != nil:
		say(e.stderr, "Run '%s plan --help' for usage.\n", e.prog)
		return flags, nil, exitUsage, false
	case len(paths) == 0:
		say(e.stderr, "%s plan: no FILE, DIR or - given\n", e.prog)
		return flags, nil, exitUsage, false
	}
	if _, known := planWriters[flags.output]; !known {
		say(e.stderr, "%s plan: -o must be text, json or markdown, not %q\n", e.prog, flags.output)
		return flags, nil, exitUsage, false
	}
	return flags, paths, exitOK, true
}

// runPlan is `collabctl plan`.
func runPlan(ctx context.Context, e env, args []string) int {
	flags, paths, code, ok := parsePlanArgs(e, args)
	if !ok {
		return code
	}
	write := planWriters[flags.output]
	ctx, cancel := context.WithTimeout(ctx, flags.timeout)
	defer cancel()

	inputs, err := validate.ReadInputs(paths, e.stdin)
	if err != nil {
		say(e.stderr, "%s plan: %v\n", e.prog, err)
		return exitUsage
	}
	kcfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: flags.kubeconfig, Precedence: kubeconfigPrecedence()},
		&clientcmd.ConfigOverrides{CurrentContext: flags.context})
	if flags.namespace == "" {
		if flags.namespace, _, err = kcfg.Namespace(); err != nil || flags.namespace == "" {
			flags.namespace = "default"
		}
	}
	if code, ok := validateForPlan(ctx, e, inputs, flags.namespace); !ok {
		return code
	}
	spaces, err := spacesIn(inputs, flags.namespace)
	if err != nil {
		say(e.stderr, "%s plan: %v\n", e.prog, err)
		return exitUsage
	}

	restCfg, err := kcfg.ClientConfig()
	if err != nil {
		say(e.stderr, "%s plan: cannot load the kubeconfig: %v\n", e.prog, err)
		return exitFindings
	}
	live, err := client.NewWithWatch(restCfg, client.Options{Scheme: planScheme()})
	if err != nil {
		say(e.stderr, "%s plan: cannot connect to the cluster: %v\n", e.prog, err)
		return exitFindings
	}
	opts := controllers.PlanOptions{
		Chat:               &controllers.MatrixConnector{},
		ForumConnector:     &controllers.NodeBBConnector{},
		Forum:              controllers.ForumSettings{OperatorNamespace: flags.operatorNamespace, EndpointOverride: flags.forumEndpoint},
		MaxRemovalsPerPass: flags.maxRemovals,
	}
	plans, failed := makePlans(ctx, live, spaces, opts)
	if err := write(e.stdout, plans); err != nil {
		say(e.stderr, "%s plan: %v\n", e.prog, err)
		return exitFindings
	}
	switch {
	case failed:
		return exitFindings
	case flags.exitCode && dryrun.HasChanges(plans):
		return exitChanges
	}
	return exitOK
}

// exitChanges: with --exit-code, the plan holds changes. It differs from every
// failure code, so CI can tell "something to apply" from "could not plan".
const exitChanges = 3

var planWriters = map[string]func(io.Writer, []dryrun.Plan) error{
	"text":     dryrun.WriteText,
	"json":     dryrun.WriteJSON,
	"markdown": dryrun.WriteMarkdown,
	"md":       dryrun.WriteMarkdown,
}

// makePlans plans each space in turn; it reports whether any plan met an error.
func makePlans(ctx context.Context, live client.WithWatch, spaces []*collabv1.CollaborationSpace,
	opts controllers.PlanOptions) ([]dryrun.Plan, bool) {
	plans := make([]dryrun.Plan, 0, len(spaces))
	failed := false
	for _, s := range spaces {
		p, err := controllers.PlanSpace(ctx, live, s, opts)
		if err != nil {
			failed = true
			if len(p.Errors) == 0 {
				p.Errors = []string{err.Error()}
			}
		}
		plans = append(plans, p)
	}
	return plans, failed
}

// validateForPlan runs validate's checks and prints its errors; a plan of
// invalid input would show changes the API server will refuse.
func validateForPlan(ctx context.Context, e env, inputs []validate.Input, namespace string) (int, bool) {
	v, err := validate.New()
	if err != nil {
		say(e.stderr, "%s plan: cannot load the CRDs: %v\n", e.prog, err)
		return exitUsage, false
	}
	report := v.Check(ctx, inputs, validate.Options{Namespace: namespace})
	if !validate.HasErrors(report.Findings) {
		return exitOK, true
	}
	for _, f := range report.Findings {
		if f.Severity == validate.SeverityError {
			say(e.stderr, "%s\n", f)
		}
	}
	say(e.stderr, "%s plan: the input is invalid; fix it (see '%s validate') before planning\n", e.prog, e.prog)
	return exitFindings, false
}

// spacesIn returns the CollaborationSpaces in inputs, in order; a space repeated
// (an update, for validate) is planned as its last version.
func spacesIn(inputs []validate.Input, namespace string) ([]*collabv1.CollaborationSpace, error) {
	var out []*collabv1.CollaborationSpace
	index := map[string]int{}
	for _, in := range inputs {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(in.Data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", in.Name, err)
			}
			gvk := u.GroupVersionKind()
			if len(u.Object) == 0 || gvk.Group != collabv1.GroupVersion.Group || gvk.Kind != "CollaborationSpace" {
				continue
			}
			s := &collabv1.CollaborationSpace{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", in.Name, u.GetName(), err)
			}
			if s.Namespace == "" {
				s.Namespace = namespace
			}
			key := s.Namespace + "/" + s.Name
			if i, ok := index[key]; ok {
				out[i] = s
				continue
			}
			index[key] = len(out)
			out = append(out, s)
		}
	}
	return out, nil
}

func planScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := collabv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// kubeconfigPrecedence is $KUBECONFIG's files, as kubectl reads them.
func kubeconfigPrecedence() []string {
	return clientcmd.NewDefaultClientConfigLoadingRules().Precedence
}

// plan joins the commands table from its own file.
func init() {
	commands = append(commands, command{name: "plan",
		summary: "show what the operator would change on the cluster, Matrix and forums", run: runPlan})
}
