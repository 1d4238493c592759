package validate

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// document is one YAML document of a file, with what is needed to place
// findings on its lines.
type document struct {
	file string
	// line is the 1-based line of the document's first key in the file.
	line int
	// node is the document's top-level mapping; its lines count from the start
	// of the file.
	node *yamlv3.Node
	obj  *unstructured.Unstructured
}

// ref names the document's object as it is written (before defaulting).
func (d *document) ref() ObjectRef {
	return ObjectRef{Kind: d.obj.GetKind(), Namespace: d.obj.GetNamespace(), Name: d.obj.GetName()}
}

// chunk is the text of one document and the line it starts at.
type chunk struct {
	text []byte
	line int
}

// splitDocuments splits a multi-document stream at "---" lines, as kubectl's
// YAML reader does, remembering where each document starts.
func splitDocuments(data []byte) ([]chunk, []lineProblem) {
	var chunks []chunk
	var probs []lineProblem
	var buf bytes.Buffer
	start, n := 1, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		n++
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "---"); ok {
			if t := strings.TrimSpace(rest); t != "" && !strings.HasPrefix(t, "#") {
				probs = append(probs, lineProblem{line: n, problem: problem{message: "invalid YAML document separator: " + t}})
			}
			chunks = append(chunks, chunk{text: bytes.Clone(buf.Bytes()), line: start})
			buf.Reset()
			start = n + 1
			continue
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
	}
	return append(chunks, chunk{text: buf.Bytes(), line: start}), probs
}

// lineProblem is a problem found before there is an object to name.
type lineProblem struct {
	line int
	problem
}

// parseDocuments reads every non-empty document of a file's data.
func parseDocuments(file string, data []byte) ([]*document, []lineProblem) {
	chunks, probs := splitDocuments(data)
	var docs []*document
	for _, c := range chunks {
		doc, p := parseDocument(file, c)
		if p != nil {
			probs = append(probs, *p)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs, probs
}

// parseDocument parses one document twice: the way kubectl does
// (sigs.k8s.io/yaml, to JSON) for the values and syntax errors, so that values
// such as `yes` mean what they mean to kubectl, and with the yaml.v3 node API
// for the lines of fields. It returns nil for a document of only comments.
func parseDocument(file string, c chunk) (*document, *lineProblem) {
	data, err := yaml.YAMLToJSONStrict(c.text)
	if err != nil {
		return nil, yamlProblem(err, c.line)
	}
	var v any
	if err := utiljson.Unmarshal(data, &v); err != nil {
		return nil, &lineProblem{line: c.line, problem: problem{message: err.Error()}}
	}
	node := parseNode(c)
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return &document{file: file, line: node.Line, node: node, obj: &unstructured.Unstructured{Object: m}}, nil
	default:
		return nil, &lineProblem{line: node.Line, problem: problem{message: fmt.Sprintf("a Kubernetes object must be a YAML mapping, not a %T", v)}}
	}
}

// parseNode returns the top-level node of a document that sigs.k8s.io/yaml
// has parsed, with lines counted from the start of the file. Should yaml.v3
// disagree about the syntax, it returns a bare node at the document's first
// line, so that findings are still placed, if less precisely.
func parseNode(c chunk) *yamlv3.Node {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(c.text, &root); err != nil || len(root.Content) == 0 {
		return &yamlv3.Node{Line: c.line}
	}
	node := root.Content[0]
	shiftLines(node, c.line-1)
	return node
}

// shiftLines adds offset to the line of node and of everything below it.
func shiftLines(node *yamlv3.Node, offset int) {
	node.Line += offset
	for _, c := range node.Content {
		shiftLines(c, offset)
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlProblem places a YAML parser error, whose line numbers count from the
// start of the document, at its line in the file.
func yamlProblem(err error, start int) *lineProblem {
	line := 0
	msg := yamlLine.ReplaceAllStringFunc(err.Error(), func(s string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "line "))
		if line == 0 {
			line = start + n - 1
		}
		return fmt.Sprintf("line %d", start+n-1)
	})
	if line == 0 {
		line = start
	}
	msg = strings.Join(strings.Fields(msg), " ")
	return &lineProblem{line: line, problem: problem{message: msg}}
}

// expandPaths lists the YAML files to check: files as given, and every *.yaml
// and *.yml file under a directory, except kustomization files (they are not
// objects) and hidden directories such as .git and .github. "-" stands for
// standard input.
func expandPaths(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := yamlFilesUnder(p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	return files, nil
}

func yamlFilesUnder(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		case isKustomization(d.Name()):
			return nil
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

func isKustomization(name string) bool {
	switch name {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}
