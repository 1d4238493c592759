package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

func (e *devEnv) applySamples(ctx context.Context, kustomization string) error {
	return e.kubectl(ctx, os.Stdout, "apply", "--server-side", "-k", kustomization)
}

// waitReady waits until every CollaborationSpace is Ready, as kubectl would.
func (e *devEnv) waitReady(ctx context.Context, timeout time.Duration) error {
	err := e.kubectl(ctx, os.Stdout, "wait", "--for=condition=Ready", "collaborationspaces", "--all",
		"--all-namespaces", fmt.Sprintf("--timeout=%s", timeout))
	if err != nil {
		_ = e.kubectl(ctx, os.Stdout, "get", "collaborationspaces", "-A", "-o", "wide")
		return fmt.Errorf("samples not Ready (operator log: %s/operator.log): %w", e.dir, err)
	}
	return nil
}

// report prints what the operator made, as a user would look at it.
func (e *devEnv) report(ctx context.Context) {
	e.say("kubectl get collaborationspaces -A")
	_ = e.kubectl(ctx, os.Stdout, "get", "collaborationspaces", "-A", "-o", "wide")
	e.say("The permission bindings the operator made")
	_ = e.kubectl(ctx, os.Stdout, "get", "rolebindings", "-A", "-l", "app.kubernetes.io/managed-by=collab-operator",
		"-o", "custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,ROLE:.roleRef.name,SUBJECTS:.subjects[*].name")
	e.say("Forums: workloads and categories")
	_ = e.kubectl(ctx, os.Stdout, "get", "deployments,pvc", "-A", "-l", "app.kubernetes.io/managed-by=collab-operator")
	_ = e.kubectl(ctx, os.Stdout, "get", "collaborationspaces", "-A", "-o",
		"custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,FORUM:.status.forum.url,CATEGORIES:.status.forum.categories[*].name")
	e.reportChat(ctx)
	e.say("Cluster: KUBECONFIG=%s  (logs of every process in %s)", e.kubeconfig, e.dir)
	e.say("Operator metrics: http://%s/metrics", e.metricsAddr)
}
