// Package validation_test asserts the CRDs' validation and the admission policies
// of config/admission on a real kube-apiserver: every manifest of the bad-manifest
// corpus and of the policy corpus is refused with a message naming the field, and
// every sample is accepted.
package validation_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

const (
	corpusDir = "testdata/invalid"
	// minCorpus is the number of bad manifests the issue asks for at least.
	minCorpus = 20
)

// k talks to the test's kube-apiserver. Objects are unstructured, so invalid
// enum values, extra fields and the like reach the server exactly as written.
var k client.Client

// strict refuses unknown fields instead of pruning them silently, as kubectl does.
var strict = client.FieldValidation(metav1.FieldValidationStrict)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env, err := testenv.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot start kube-apiserver and etcd: %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "cannot stop kube-apiserver and etcd: %v\n", err)
		}
	}()
	k, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build a client: %v\n", err)
		return 1
	}
	// The ValidatingAdmissionPolicies config/default installs, as a cluster has
	// them; no CollaborationPolicy exists until a test creates one.
	if err := installAdmission(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "cannot install the admission policies: %v\n", err)
		return 1
	}
	return m.Run()
}

// badManifest is one file of the corpus.
type badManifest struct {
	// expect are substrings that must all appear in the server's error.
	expect []string
	// setup, when set, is created first; docs[len-1] is then applied as its update.
	setup *unstructured.Unstructured
	// bad is the object the server must refuse.
	bad *unstructured.Unstructured
}

var expectLine = regexp.MustCompile(`^#\s*expect:\s*(.*?)\s*$`)

// namesField says whether an expected substring names a field of the object.
var namesField = regexp.MustCompile(`^(spec|metadata)\.`)

func loadBadManifest(path string) (badManifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return badManifest{}, err
	}
	var bm badManifest
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if m := expectLine.FindStringSubmatch(line); m != nil && m[1] != "" {
			bm.expect = append(bm.expect, m[1])
		}
	}
	if len(bm.expect) == 0 {
		return bm, errors.New("no '# expect: <message>' line at the top of the file")
	}
	if !containsMatch(bm.expect, namesField) {
		return bm, errors.New("no '# expect:' line names the field (spec.… or metadata.…)")
	}
	docs, err := decodeAll(data)
	if err != nil {
		return bm, err
	}
	switch len(docs) {
	case 1:
		bm.bad = docs[0]
	case 2:
		bm.setup, bm.bad = docs[0], docs[1]
		if bm.setup.GroupVersionKind() != bm.bad.GroupVersionKind() ||
			bm.setup.GetNamespace() != bm.bad.GetNamespace() || bm.setup.GetName() != bm.bad.GetName() {
			return bm, errors.New("the second document must update the object of the first")
		}
	default:
		return bm, fmt.Errorf("want 1 document (a create) or 2 (a create, then an update), got %d", len(docs))
	}
	return bm, nil
}

func containsMatch(ss []string, re *regexp.Regexp) bool {
	for _, s := range ss {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// decodeAll reads every non-empty YAML document of data.
func decodeAll(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("a document lacks apiVersion, kind or metadata.name:\n%s", doc)
		}
		objs = append(objs, u)
	}
}

// ensureNamespaces creates the namespaces objs live in, and those objs declare.
func ensureNamespaces(ctx context.Context, t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	names := map[string]bool{}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			names[ns] = true
		}
		if o.GetAPIVersion() == "v1" && o.GetKind() == "Namespace" {
			names[o.GetName()] = true
		}
	}
	for name := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := k.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("cannot create namespace %s: %v", name, err)
		}
	}
}

func TestBadManifestsRefused(t *testing.T) {
	ctx := t.Context()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minCorpus {
		t.Fatalf("the corpus %s holds %d bad manifests, want at least %d", corpusDir, len(files), minCorpus)
	}
	cases := map[string]badManifest{}
	var all []*unstructured.Unstructured
	for _, f := range files {
		bm, err := loadBadManifest(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases[f] = bm
		all = append(all, bm.bad)
	}
	ensureNamespaces(ctx, t, all)

	for _, f := range files {
		bm := cases[f]
		t.Run(filepath.Base(f), func(t *testing.T) {
			var err error
			if bm.setup == nil {
				err = createOrCleanUp(ctx, t, bm.bad)
			} else {
				if err := createOrCleanUp(ctx, t, bm.setup.DeepCopy()); err != nil {
					t.Fatalf("the first document must be accepted, it was refused: %v", err)
				}
				current := &unstructured.Unstructured{}
				current.SetGroupVersionKind(bm.setup.GroupVersionKind())
				if err := k.Get(ctx, client.ObjectKeyFromObject(bm.setup), current); err != nil {
					t.Fatal(err)
				}
				update := bm.bad.DeepCopy()
				update.SetResourceVersion(current.GetResourceVersion())
				err = k.Update(ctx, update, strict)
			}
			if err == nil {
				t.Fatalf("the server accepted the manifest; want it refused with %q", bm.expect)
			}
			t.Logf("refused: %v", err)
			if !apierrors.IsInvalid(err) {
				t.Errorf("want an Invalid error, got %s: %v", apierrors.ReasonForError(err), err)
			}
			for _, want := range bm.expect {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not contain %q", want)
				}
			}
		})
	}
}

// createOrCleanUp creates obj and, if the server accepted it, deletes it when the
// test ends so that each case starts from nothing.
func createOrCleanUp(ctx context.Context, t *testing.T, obj *unstructured.Unstructured) error {
	t.Helper()
	if err := k.Create(ctx, obj, strict); err != nil {
		return err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cannot delete %s %s: %v", obj.GetKind(), client.ObjectKeyFromObject(obj), err)
		}
	})
	return nil
}

const samplesDir = "../../config/samples"

// sampleFiles lists every YAML file under config/samples but the kustomizations.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(samplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == "kustomization.yaml" {
			return nil
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no samples under %s", samplesDir)
	}
	return files
}

func TestSamplesAccepted(t *testing.T) {
	ctx := t.Context()
	type sample struct {
		file string
		obj  *unstructured.Unstructured
	}
	var samples []sample
	var all []*unstructured.Unstructured
	for _, f := range sampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeAll(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(objs) == 0 {
			t.Fatalf("%s holds no object", f)
		}
		for _, o := range objs {
			samples = append(samples, sample{file: f, obj: o})
		}
		all = append(all, objs...)
	}
	// Namespaces first, as `kubectl apply` of the whole directory would need them.
	ensureNamespaces(ctx, t, all)

	for _, s := range samples {
		if s.obj.GetAPIVersion() == "v1" && s.obj.GetKind() == "Namespace" {
			continue
		}
		rel, _ := filepath.Rel(samplesDir, s.file)
		t.Run(fmt.Sprintf("%s/%s/%s", rel, s.obj.GetKind(), s.obj.GetName()), func(t *testing.T) {
			if err := createOrCleanUp(ctx, t, s.obj.DeepCopy()); err != nil {
				t.Fatalf("the sample was refused: %v", err)
			}
		})
	}
}

// TestSamplesKustomization checks that config/samples/kustomization.yaml, which
// `make dev` applies, lists files that exist.
func TestSamplesKustomization(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(samplesDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kz struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &kz); err != nil {
		t.Fatal(err)
	}
	if len(kz.Resources) == 0 {
		t.Fatal("the kustomization lists no resources")
	}
	for _, r := range kz.Resources {
		if _, err := os.Stat(filepath.Join(samplesDir, r)); err != nil {
			t.Errorf("the kustomization lists %s: %v", r, err)
		}
	}
}

// TestUserIDTemplatesAccepted guards the userIDTemplate rule against refusing
// templates the operator renders fine (see internal/chat/matrix/plan).
func TestUserIDTemplatesAccepted(t *testing.T) {
	for name, tmpl := range map[string]string{
		"plain":          "@{{.Name}}:example.org",
		"spaced action":  "@{{ .Name }}:chat.example.com",
		"lower":          "@{{lower .Name}}:example.org",
		"piped":          "@{{.Name | lower}}:example.org",
		"e-mail names":   `@{{ replace (lower .Name) "@" "." }}:example.org`,
		"prefix":         "@corp_{{.Name}}:example.org",
		"server w/ port": "@{{.Name}}:localhost:8008",
	} {
		t.Run(name, func(t *testing.T) {
			cb := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "collab.opencommons.io/v1alpha1",
				"kind":       "ChatBackend",
				"metadata":   map[string]any{"name": "template-check"},
				"spec": map[string]any{"matrix": map[string]any{
					"homeserverURL":        "https://matrix.example.org",
					"serverName":           "example.org",
					"credentialsSecretRef": map[string]any{"namespace": "collab-system", "name": "matrix-credentials"},
					"userIDTemplate":       tmpl,
				}},
			}}
			if err := k.Create(t.Context(), cb, strict, client.DryRunAll); err != nil {
				t.Fatalf("userIDTemplate %q was refused: %v", tmpl, err)
			}
		})
	}
}
