package engines

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/opencommons/collab-operator/"

// engineTrees are the engines' own packages: only they, this registry and the
// tools that run real servers (the test harness, make dev, benchmarks, tests)
// may name an engine.
var engineTrees = []string{"internal/chat/matrix", "internal/forum/nodebb"}

// mayNameEngines are the packages besides the engines themselves allowed to
// import one.
var mayNameEngines = []string{"internal/engines", "internal/testing", "internal/devcluster", "hack", "test"}

// TestOnlyTheRegistryNamesAnEngine: a second chat engine is a new folder and a
// line in Chat; every other package reaches an engine through chat.Connector or
// forum.Connector. Fails naming the package that imports an engine directly.
func TestOnlyTheRegistryNamesAnEngine(t *testing.T) {
	for pkg, imports := range moduleImports(t, "./...") {
		if within(pkg, engineTrees) || within(pkg, mayNameEngines) {
			continue
		}
		for _, imp := range imports {
			if within(imp, engineTrees) {
				t.Errorf("%s imports the engine package %s: reach it through internal/engines", pkg, imp)
			}
		}
	}
}

// TestLibrariesImportNoController: controllers sit above everything they use;
// a package of internal/ (the space's pass, connectors, engines) reaching up
// into a controller would make the layers a circle. The test harness and make
// dev, which start controllers, are the exceptions.
func TestLibrariesImportNoController(t *testing.T) {
	for pkg, imports := range moduleImports(t, "./...") {
		if !strings.HasPrefix(pkg, "internal/") || within(pkg, []string{"internal/testing", "internal/devcluster"}) {
			continue
		}
		for _, imp := range imports {
			if within(imp, []string{"controllers"}) {
				t.Errorf("%s imports %s: a library may not reach up into a controller", pkg, imp)
			}
		}
	}
}

// TestProductionCodeLeavesTheTestHarnessOut: what the manager and collabctl
// link holds no test harness.
func TestProductionCodeLeavesTheTestHarnessOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../..", "../../cmd/collabctl").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, module+"internal/testing") {
			t.Errorf("the manager or collabctl links %s", pkg)
		}
	}
}

// moduleImports maps each package of the module to the module packages it
// imports (tests' imports aside), both relative to the module.
func moduleImports(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, pattern)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		graph[pkg] = nil
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) {
				graph[pkg] = append(graph[pkg], strings.TrimPrefix(imp, module))
			}
		}
	}
	if len(graph) < 20 {
		t.Fatalf("go list found %d packages: is it run from the module?", len(graph))
	}
	return graph
}

// within says whether pkg is one of the trees or inside one.
func within(pkg string, trees []string) bool {
	for _, tree := range trees {
		if pkg == tree || strings.HasPrefix(pkg, tree+"/") {
			return true
		}
	}
	return false
}
