// Package testenv starts a real kube-apiserver and etcd (envtest) with the project's
// CRDs installed, from the binaries hack/local-bins.sh builds into the machine's cache.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/opencommons/collab-operator/internal/testing/repo"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// Scheme knows the built-in kinds and the project's API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := collabv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// RepoRoot finds the repository root by walking up to go.mod.
func RepoRoot() (string, error) { return repo.Root() }

// assetsDir is KUBEBUILDER_ASSETS when set, else the cache dir hack/local-bins.sh
// fills, built first if need be (the first run on a machine takes minutes).
func assetsDir(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	script := filepath.Join(root, "hack", "local-bins.sh")
	build := exec.Command(script, "envtest")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("cannot build the envtest binaries with %s: %w", script, err)
	}
	out, err := exec.Command(script, "path", "envtest").Output()
	if err != nil {
		return "", fmt.Errorf("cannot locate the envtest binaries: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start starts a new environment (New), after configure has adjusted it, and
// returns it with its rest config; the caller stops it.
func Start(configure ...func(*envtest.Environment)) (*envtest.Environment, *rest.Config, error) {
	env, err := New()
	if err != nil {
		return nil, nil, err
	}
	for _, c := range configure {
		c(env)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot start the API server: %w", err)
	}
	return env, cfg, nil
}

// New returns an envtest environment with the project's CRDs, ready to Start.
func New() (*envtest.Environment, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := assetsDir(root)
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		Scheme:                Scheme(),
	}, nil
}
