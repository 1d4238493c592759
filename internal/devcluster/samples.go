package devcluster

import (
	"context"
	"fmt"
	"time"
)

func (e *Env) ApplySamples(ctx context.Context, kustomization string) error {
	return e.Kubectl(ctx, e.out, "apply", "--server-side", "-k", kustomization)
}

// waitReady waits until every CollaborationSpace is Ready, as kubectl would.
func (e *Env) WaitReady(ctx context.Context, timeout time.Duration) error {
	err := e.Kubectl(ctx, e.out, "wait", "--for=condition=Ready", "collaborationspaces", "--all",
		"--all-namespaces", fmt.Sprintf("--timeout=%s", timeout))
	if err != nil {
		_ = e.Kubectl(ctx, e.out, "get", "collaborationspaces", "-A", "-o", "wide")
		return fmt.Errorf("samples not Ready (operator log: %s/operator.log): %w", e.dir, err)
	}
	return nil
}

// report prints what the operator made, as a user would look at it.
func (e *Env) Report(ctx context.Context) {
	e.say("kubectl get collaborationspaces -A")
	_ = e.Kubectl(ctx, e.out, "get", "collaborationspaces", "-A", "-o", "wide")
	e.say("The permission bindings the operator made")
	_ = e.Kubectl(ctx, e.out, "get", "rolebindings", "-A", "-l", "app.kubernetes.io/managed-by=collab-operator",
		"-o", "custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,ROLE:.roleRef.name,SUBJECTS:.subjects[*].name")
	e.say("Forums: workloads and categories")
	_ = e.Kubectl(ctx, e.out, "get", "deployments,pvc", "-A", "-l", "app.kubernetes.io/managed-by=collab-operator")
	_ = e.Kubectl(ctx, e.out, "get", "collaborationspaces", "-A", "-o",
		"custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,FORUM:.status.forum.url,CATEGORIES:.status.forum.categories[*].name")
	e.reportChat(ctx)
	e.reportMembers(ctx)
	e.reportPeople(ctx)
	e.reportInsights(ctx)
	e.say("Cluster: KUBECONFIG=%s  (logs of every process in %s)", e.kubeconfig, e.dir)
	e.say("Operator metrics: http://%s/metrics", e.metricsAddr)
	e.say("On a real cluster: make deploy IMG=… (kustomize, config/default) or helm install collab-operator charts/collab-operator")
}
