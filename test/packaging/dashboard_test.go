package packaging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestTheDashboardAsksForMetricsTheManagerServes: a query that names a metric
// the manager does not define draws an empty panel, which looks like an
// organisation where nobody talks. Every collab_ metric the dashboard's
// queries name must be defined in internal/metrics; the file must be JSON
// Grafana can load, with panels.
func TestTheDashboardAsksForMetricsTheManagerServes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "config/grafana/collab-openness.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("the dashboard has no uid or no panels")
	}
	defined := definedMetrics(t)
	metric := regexp.MustCompile(`collab_[a-z_]+`)
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				if !defined[name] {
					t.Errorf("panel %q asks for %s, which internal/metrics does not define", p.Title, name)
				}
			}
		}
	}
}

// definedMetrics are the names internal/metrics gives its metrics.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "internal/metrics/*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	name := regexp.MustCompile(`Name:\s*"(collab_[a-z_]+)"`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
	}
	if len(names) == 0 {
		t.Fatal("found no metric names in internal/metrics")
	}
	return names
}
