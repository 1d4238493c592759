package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/dryrun"
	"github.com/opencommons/collab-operator/internal/engines"
	"github.com/opencommons/collab-operator/internal/spacepass"
	"github.com/opencommons/collab-operator/internal/spacepass/forumphase"
	"github.com/opencommons/collab-operator/internal/validate"
)

const planHelp = `Usage:
  %[1]s plan [flags] FILE|DIR|- ...

Shows what the operator would do if the CollaborationSpaces in the files were
applied: the Roles and RoleBindings it would create, change or delete, the
rooms it would create, the topics, members and links it would change, the
forum it would deploy and the groups and categories it would make, the rooms
and categories it would archive. It reads the live cluster (with the current
kubeconfig) and the chat and forum backends the spaces use, and writes to none
of them: it runs the operator's own reconcile code with clients that record
writes instead of making them.

The files are validated first (see '%[1]s validate'); invalid input is not
planned. The Namespaces, ChatBackends and ForumBackends in the files count as
existing, so a pull request that adds a department plans as the creation of
everything in it. A backend only the files hold, and a deployed forum that is
not running yet, plan as empty: everything on them is created.

Needs get, list and watch on the collab kinds, Namespaces, Roles and
RoleBindings (the collab-plan ClusterRole). To see what is on the chat and
forum backends it also reads their credentials Secrets; without them (as with
collab-plan, which grants no Secret) it plans a space that has nothing on a
backend yet as new there, and says "cannot tell" for the rest. See
docs/collabctl.md.

Exit status:
  0  no changes
  1  the input is invalid, or the plan could not be made (no cluster, a
     CollaborationPolicy forbids the space)
  2  bad arguments
  3  changes pending
  4  the plan cannot tell part of what would change (a backend unreachable or
     unreadable, a forum API that does not answer); there may be changes
     besides those shown
It is never 0 when anything is pending or unknown. --exit-code is accepted
for scripts written for earlier releases and changes nothing.

Flags:
`

type planFlags struct {
	cluster           clusterFlags
	output, namespace string
	operatorNamespace string
	forumEndpoint     string
	maxRemovals       int
	exitCode          bool
	timeout           time.Duration
}

func (f *planFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "text", "output format: text, json or markdown")
	fs.StringVar(&f.output, "o", "text", "shorthand for --output")
	fs.StringVar(&f.namespace, "namespace", "", "namespace of spaces that name none (default: the kubeconfig context's)")
	fs.StringVar(&f.namespace, "n", "", "shorthand for --namespace")
	f.cluster.register(fs)
	fs.StringVar(&f.operatorNamespace, "operator-namespace", "collab-operator-system", "the operator's --operator-namespace")
	fs.StringVar(&f.forumEndpoint, "forum-endpoint-override", "", "the operator's --forum-endpoint-override")
	fs.IntVar(&f.maxRemovals, "max-member-removals", 5, "the operator's --max-member-removals")
	fs.BoolVar(&f.exitCode, "exit-code", false, "accepted for compatibility: plan always exits 3 with changes, 4 when it cannot tell")
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
	kcfg := flags.cluster.config()
	if flags.namespace == "" {
		if flags.namespace, _, err = kcfg.Namespace(); err != nil || flags.namespace == "" {
			flags.namespace = "default"
		}
	}
	if code, ok := validateForPlan(ctx, e, inputs, flags.namespace); !ok {
		return code
	}
	spaces, others, err := objectsIn(inputs, flags.namespace)
	if err != nil {
		say(e.stderr, "%s plan: %v\n", e.prog, err)
		return exitUsage
	}

	cluster, err := clusterClient(kcfg)
	if err != nil {
		say(e.stderr, "%s plan: %v\n", e.prog, err)
		return exitFindings
	}
	// The Namespaces and backends of the files exist for the plan.
	live := dryrun.NewOverlay(cluster, others)
	opts := spacepass.PlanOptions{
		Chat:               engines.Chat(),
		Forums:             engines.Forum(),
		Forum:              forumphase.Settings{OperatorNamespace: flags.operatorNamespace, EndpointOverride: flags.forumEndpoint},
		MaxRemovalsPerPass: flags.maxRemovals,
	}
	plans := makePlans(ctx, live, spaces, opts)
	if err := write(e.stdout, plans); err != nil {
		say(e.stderr, "%s plan: %v\n", e.prog, err)
		return exitFindings
	}
	return planExitCode(plans)
}

// Exit codes of plan beyond the common ones. Each differs from every failure
// code, so CI can tell "something to apply" from "could not plan", and neither
// is ever 0.
const (
	// exitChanges: the plan holds changes and nothing is unknown.
	exitChanges = 3
	// exitUnknown: part of the plan cannot be told (a backend unreachable or
	// unreadable, a forum whose API does not answer); there may be changes
	// besides those shown.
	exitUnknown = 4
)

// planExitCode is 1 when a plan could not be made, else 4 when part of one is
// unknown, else 3 when there are changes, else 0.
func planExitCode(plans []dryrun.Plan) int {
	switch {
	case dryrun.HasErrors(plans):
		return exitFindings
	case dryrun.HasUnknown(plans):
		return exitUnknown
	case dryrun.HasChanges(plans):
		return exitChanges
	}
	return exitOK
}

var planWriters = map[string]func(io.Writer, []dryrun.Plan) error{
	"text":     dryrun.WriteText,
	"json":     dryrun.WriteJSON,
	"markdown": dryrun.WriteMarkdown,
	"md":       dryrun.WriteMarkdown,
}

// makePlans plans each space in turn.
func makePlans(ctx context.Context, live client.WithWatch, spaces []*collabv1.CollaborationSpace,
	opts spacepass.PlanOptions) []dryrun.Plan {
	plans := make([]dryrun.Plan, 0, len(spaces))
	for _, s := range spaces {
		p, err := spacepass.PlanSpace(ctx, live, s, opts)
		if err != nil && len(p.Errors) == 0 {
			p.Errors = []string{err.Error()}
		}
		plans = append(plans, p)
	}
	return plans
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
	spaces, _, err := objectsIn(inputs, namespace)
	return spaces, err
}

// existingKinds are the kinds of the files that exist for a plan before they
// are applied: a pull request that adds a department adds its Namespace, and
// may add a backend.
var existingKinds = map[string]func() client.Object{
	"/Namespace": func() client.Object { return &corev1.Namespace{} },
	collabv1.GroupVersion.Group + "/ChatBackend":  func() client.Object { return &collabv1.ChatBackend{} },
	collabv1.GroupVersion.Group + "/ForumBackend": func() client.Object { return &collabv1.ForumBackend{} },
}

// objectsIn returns the CollaborationSpaces in inputs, in order, and the
// Namespaces and backends; a space repeated (an update, for validate) is
// planned as its last version.
func objectsIn(inputs []validate.Input, namespace string) ([]*collabv1.CollaborationSpace, []client.Object, error) {
	var out []*collabv1.CollaborationSpace
	var others []client.Object
	index := map[string]int{}
	for _, in := range inputs {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(in.Data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, nil, fmt.Errorf("%s: %w", in.Name, err)
			}
			gvk := u.GroupVersionKind()
			if len(u.Object) == 0 {
				continue
			}
			if mk, ok := existingKinds[gvk.Group+"/"+gvk.Kind]; ok {
				obj := mk()
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
					return nil, nil, fmt.Errorf("%s: %s: %w", in.Name, u.GetName(), err)
				}
				others = append(others, obj)
				continue
			}
			if gvk.Group != collabv1.GroupVersion.Group || gvk.Kind != "CollaborationSpace" {
				continue
			}
			s := &collabv1.CollaborationSpace{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s); err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", in.Name, u.GetName(), err)
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
	return out, others, nil
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

// clusterFlags are the flags of the commands that read the cluster.
type clusterFlags struct{ kubeconfig, context string }

func (f *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to use")
}

// config is the kubeconfig the flags name.
func (f clusterFlags) config() clientcmd.ClientConfig { return kubeconfig(f.kubeconfig, f.context) }

// kubeconfig is the kubeconfig as kubectl finds it: path when given, else
// $KUBECONFIG's files or ~/.kube/config, in context when given.
func kubeconfig(path, context string) clientcmd.ClientConfig {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path, Precedence: kubeconfigPrecedence()},
		&clientcmd.ConfigOverrides{CurrentContext: context})
}

// clusterClient connects to the cluster kcfg names, reading it directly (no cache).
func clusterClient(kcfg clientcmd.ClientConfig) (client.WithWatch, error) {
	restCfg, err := kcfg.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot load the kubeconfig: %w", err)
	}
	c, err := client.NewWithWatch(restCfg, client.Options{Scheme: planScheme()})
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the cluster: %w", err)
	}
	return c, nil
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
