package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheImageBuildsFromWhatTheDockerfileCopies: the manager image is built
// from the files the Dockerfile copies into its build stage; a package the
// manager links from anywhere else (config/admission's embedded policies, say)
// fails `docker build` on a machine with a container engine, which this one
// lacks. Each package the manager links must lie under a copied path.
func TestTheImageBuildsFromWhatTheDockerfileCopies(t *testing.T) {
	root := repoRoot
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var copied []string
	for _, line := range strings.Split(string(dockerfile), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "COPY" || strings.HasPrefix(fields[1], "--from") {
			continue
		}
		for _, src := range fields[1 : len(fields)-1] {
			copied = append(copied, strings.TrimSuffix(src, "/"))
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", ".")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(abs, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency, downloaded in the build stage
		}
		if !underAny(rel, copied) {
			t.Errorf("the manager links %s, which the Dockerfile does not copy into the build stage", rel)
		}
	}
}

func underAny(rel string, paths []string) bool {
	for _, p := range paths {
		if rel == p || strings.HasPrefix(rel, p+"/") || (p == "main.go" && rel == ".") {
			return true
		}
	}
	return false
}
