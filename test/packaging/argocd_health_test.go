package packaging

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

const argoDir = "config/argocd"

// argoHealthTests is Argo CD's health_test.yaml.
type argoHealthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

// TestArgoCDHealth runs config/argocd/health.lua on each input of health_test.yaml
// the way Argo CD runs a health customization, and checks status and message.
func TestArgoCDHealth(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot, argoDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	tests := readArgoTests(t)
	for _, tc := range tests.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			obj := readFixture(t, tc.InputPath)
			got, msg, err := argoHealth(string(script), obj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.HealthStatus.Status || msg != tc.HealthStatus.Message {
				t.Errorf("health.lua = {status: %q, message: %q}, want {status: %q, message: %q}",
					got, msg, tc.HealthStatus.Status, tc.HealthStatus.Message)
			}
		})
	}
}

// TestArgoCDFixtures keeps the fixtures honest: each is a valid CollaborationSpace and
// each is tested.
func TestArgoCDFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, argoDir, "testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, tc := range readArgoTests(t).Tests {
		inputs = append(inputs, tc.InputPath)
	}
	for _, f := range files {
		rel := filepath.ToSlash(filepath.Join("testdata", filepath.Base(f)))
		if !slices.Contains(inputs, rel) {
			t.Errorf("%s/%s is in no test of health_test.yaml", argoDir, rel)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var space collabv1.CollaborationSpace
		if err := yaml.UnmarshalStrict(data, &space); err != nil {
			t.Errorf("%s/%s is not a CollaborationSpace: %v", argoDir, rel, err)
		}
	}
}

// TestArgoCDAgreesWithKstatus checks that Argo CD (health.lua) and Flux (kstatus)
// tell the same story about every fixture.
func TestArgoCDAgreesWithKstatus(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot, argoDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	crd := servedSchema(t)
	same := map[string][]status.Status{
		"Healthy":     {status.CurrentStatus},
		"Degraded":    {status.FailedStatus},
		"Progressing": {status.InProgressStatus, status.TerminatingStatus},
	}
	for _, tc := range readArgoTests(t).Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			obj := readFixture(t, tc.InputPath)
			argo, _, err := argoHealth(string(script), obj)
			if err != nil {
				t.Fatal(err)
			}
			res, err := status.Compute(asServed(t, crd, obj))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(same[argo], res.Status) {
				t.Errorf("Argo CD says %s but kstatus says %s (%q); for a space without status, see TestKstatusReadsSpaces",
					argo, res.Status, res.Message)
			}
		})
	}
}

func readArgoTests(t *testing.T) argoHealthTests {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, argoDir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests argoHealthTests
	if err := yaml.UnmarshalStrict(data, &tests); err != nil {
		t.Fatal(err)
	}
	if len(tests.Tests) == 0 {
		t.Fatal("health_test.yaml has no tests")
	}
	return tests
}

func readFixture(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, argoDir, path))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeObjects(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("%s holds %d objects, want 1", path, len(objs))
	}
	return objs[0]
}

// argoHealth runs a health script as Argo CD's util/lua does for a customization from
// argocd-cm: only the package, base and table libraries open, obj a global table
// converted from the unstructured object, a one-second deadline, and the returned
// table's status and message read back.
func argoHealth(script string, obj *unstructured.Unstructured) (healthStatus, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", luaValue(l, obj.Object))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", &luaTypeError{got: l.Get(-1).Type().String()}
	}
	// Argo CD reads the table through JSON into a HealthStatus.
	var hs struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	fields := map[string]any{}
	ret.ForEach(func(k, v lua.LValue) {
		if s, ok := v.(lua.LString); ok {
			fields[k.String()] = string(s)
		}
	})
	b, err := json.Marshal(fields)
	if err != nil {
		return "", "", err
	}
	if err := json.Unmarshal(b, &hs); err != nil {
		return "", "", err
	}
	switch hs.Status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
	default:
		// Argo CD turns any other status into Unknown.
		return "Unknown", "Lua returned an invalid health status", nil
	}
	return hs.Status, hs.Message, nil
}

type luaTypeError struct{ got string }

func (e *luaTypeError) Error() string { return "expect table output from Lua script, not " + e.got }

// luaValue converts an unstructured value as Argo CD's decodeValue does.
func luaValue(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(luaValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for k, item := range v {
			tbl.RawSetH(lua.LString(k), luaValue(l, item))
		}
		return tbl
	}
	return lua.LNil
}

// TestArgoCDComponent checks that config/argocd, included as a kustomize Component
// beside Argo CD's install.yaml, adds health.lua to argocd-cm and keeps its settings.
func TestArgoCDComponent(t *testing.T) {
	kubectl := localBin(t, "k8s", "kubectl")
	dir := t.TempDir()
	abs, err := filepath.Abs(filepath.Join(repoRoot, argoDir))
	if err != nil {
		t.Fatal(err)
	}
	component, err := filepath.Rel(dir, abs)
	if err != nil {
		t.Fatal(err)
	}
	// Argo CD's install.yaml names no namespace; the installing kustomization sets it.
	files := map[string]string{
		"install.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  url: https://argocd.example.org
`,
		"kustomization.yaml": "namespace: argocd\nresources:\n- install.yaml\ncomponents:\n- " + component + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := decodeObjects(run(t, kubectl, "kustomize", dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objectKey(objs[0]) != "ConfigMap/argocd/argocd-cm" {
		t.Fatalf("rendered %d objects, want only ConfigMap/argocd/argocd-cm", len(objs))
	}
	script, err := os.ReadFile(filepath.Join(repoRoot, argoDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(objs[0].Object, "data")
	want := map[string]string{
		"url": "https://argocd.example.org",
		"resource.customizations.health.collab.opencommons.io_CollaborationSpace": string(script),
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("argocd-cm data (-want +got):\n%s", diff)
	}
}
