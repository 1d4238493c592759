package packaging

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository's top directory: go test runs in the package's.
const repoRoot = "../.."

// chartDir is the Helm chart, relative to the repository's top directory.
const chartDir = "charts/collab-operator"

// localBin returns the path of a binary that hack/local-bins.sh keeps in the
// machine's cache: set names the directory (`hack/local-bins.sh path <set>`).
func localBin(t *testing.T, set, name string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "local-bins.sh"), "path", set)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Cannot locate the %s binaries with hack/local-bins.sh path %s: %v: %s", set, set, err, stderr.String())
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is not built (%v): run hack/local-bins.sh %s", name, err, buildSet(set))
	}
	return bin
}

// buildSet is the hack/local-bins.sh argument that builds a path set.
func buildSet(set string) string {
	if set == "k8s" {
		return "envtest"
	}
	return set
}

// run runs a command in the repository's top directory and returns its stdout.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// decodeObjects splits a multi-document YAML stream into objects, skipping empty
// documents. Numbers decode as int64, as from the API server.
func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(js)) == 0 || string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
}

// objectKey names an object the way kubectl does: Kind/namespace/name.
func objectKey(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return fmt.Sprintf("%s/%s", u.GetKind(), u.GetName())
	}
	return fmt.Sprintf("%s/%s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
}

// byKey indexes objects by objectKey and fails on duplicates.
func byKey(t *testing.T, objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	m := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		k := objectKey(o)
		if _, dup := m[k]; dup {
			t.Fatalf("%s rendered twice", k)
		}
		m[k] = o
	}
	return m
}
