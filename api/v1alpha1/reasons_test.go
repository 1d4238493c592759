package v1alpha1

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReasonsAreNamedAfterTheirValues: a reason read in `kubectl describe` is
// found in the catalog by its name, so every Reason constant of the API is named
// "Reason" + its value.
func TestReasonsAreNamedAfterTheirValues(t *testing.T) {
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for name, value := range reasonConstants(file) {
			seen++
			if want := "Reason" + value; name != want {
				t.Errorf("%s = %q: name it %s", name, value, want)
			}
		}
	}
	if seen < 40 {
		t.Errorf("found %d Reason constants; the catalog holds more: is the parse right?", seen)
	}
}

// reasonConstants are a file's string constants whose names begin with Reason.
func reasonConstants(file *ast.File) map[string]string {
	out := map[string]string{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Reason") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					out[n.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return out
}
