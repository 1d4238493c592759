package engines

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// engineSections are the fields of the backends' specs that hold one engine's
// settings (spec.matrix of a ChatBackend, spec.nodebb of a ForumBackend).
var engineSections = map[string]bool{"Matrix": true, "NodeBB": true}

// TestOnlyEnginesReadTheirSections: importing an engine is not the only way to
// depend on it; code that reads backend.Spec.Matrix knows the engine as well as
// code that imports it, and would break with a second one. Only the engines,
// the API types and the packages allowed to name engines read an engine's
// section; everything else asks its connector (Server, Site). Fails naming the
// file and line that reads one.
func TestOnlyEnginesReadTheirSections(t *testing.T) {
	root := "../.."
	allowed := append([]string{"api", "bin", "tmp"}, append(engineTrees, mayNameEngines...)...)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || within(filepath.ToSlash(rel), allowed)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, at := range sectionReads(t, path) {
			t.Errorf("%s:%d reads the engine section %s: ask the engine's connector instead", filepath.ToSlash(rel), at.line, at.name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type sectionRead struct {
	name string
	line int
}

// sectionReads finds the selectors x.Matrix and x.NodeBB in one file.
func sectionReads(t *testing.T, path string) []sectionRead {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var reads []sectionRead
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && engineSections[sel.Sel.Name] {
			reads = append(reads, sectionRead{name: sel.Sel.Name, line: fset.Position(sel.Pos()).Line})
		}
		return true
	})
	return reads
}
