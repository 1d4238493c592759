package validate

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The same corpus and samples test/validation proves on a real kube-apiserver:
// the offline check must refuse each bad manifest with the server's words, and
// accept every sample.
const (
	corpusDir  = "../../test/validation/testdata/invalid"
	samplesDir = "../../config/samples"
	// minCorpus guards against a wrong path turning the test into a no-op.
	minCorpus = 44
)

var expectLine = regexp.MustCompile(`^#\s*expect:\s*(.*?)\s*$`)

// expectations reads the `# expect:` lines of the file's leading comments, as
// test/validation does.
func expectations(data []byte) []string {
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if m := expectLine.FindStringSubmatch(line); m != nil && m[1] != "" {
			want = append(want, m[1])
		}
	}
	return want
}

func newTestValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCorpusRefusedWithServerMessages(t *testing.T) {
	v := newTestValidator(t)
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minCorpus {
		t.Fatalf("found %d bad manifests in %s, want at least %d", len(files), corpusDir, minCorpus)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectations(data)
			if len(want) == 0 {
				t.Fatal("no '# expect:' line")
			}
			// Each file alone, as the API-server test creates each in isolation.
			report := v.Check(t.Context(), []Input{{Name: f, Data: data}}, Options{})
			if !HasErrors(report.Findings) {
				t.Fatalf("accepted; want it refused with %q", want)
			}
			var lines []string
			for _, fd := range report.Findings {
				lines = append(lines, fd.String())
			}
			t.Logf("refused:\n%s", strings.Join(lines, "\n"))
			for _, w := range want {
				if !containsSubstring(lines, w) {
					t.Errorf("no finding contains %q", w)
				}
			}
		})
	}
}

// TestCorpusSetupAccepted checks that the first document of each transition
// case is accepted on its own, as the API-server test requires before it
// tries the update.
func TestCorpusSetupAccepted(t *testing.T) {
	v := newTestValidator(t)
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		chunks, _ := splitDocuments(data)
		if len(chunks) != 2 {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			report := v.Check(t.Context(), []Input{{Name: f, Data: chunks[0].text}}, Options{})
			if report.Objects != 1 || len(report.Findings) > 0 {
				t.Errorf("the first document must be accepted alone; checked %d objects, found %v", report.Objects, report.Findings)
			}
		})
	}
}

func TestSamplesAccepted(t *testing.T) {
	v := newTestValidator(t)
	// Together, so the cross-file checks see every space.
	inputs, err := ReadInputs([]string{samplesDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	report := v.Check(t.Context(), inputs, Options{})
	if report.Objects < 9 {
		t.Errorf("checked %d objects under %s, want every sample (at least 9)", report.Objects, samplesDir)
	}
	for _, f := range report.Findings {
		t.Errorf("%s", f)
	}
}

func containsSubstring(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}
