package benchkit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// apiserverMetricsClient reads the API server's /metrics as an administrator.
func APIServerMetricsClient(cfg *rest.Config) (rest.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = nil
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return rest.UnversionedRESTClientFor(c)
}

// writesByKind counts the write requests the API server answered, by verb and
// resource ("POST rolebindings"), from its apiserver_request_total.
func WritesByKind(ctx context.Context, apiserver rest.Interface) (map[string]float64, error) {
	data, err := apiserver.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(line, "} ")
		var verb, resource, sub string
		for _, l := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(l, "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "verb":
				verb = v
			case "resource":
				resource = v
			case "subresource":
				sub = v
			}
		}
		if verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "DELETE" && verb != "APPLY" {
			continue
		}
		if sub != "" {
			resource += "/" + sub
		}
		n, _ := strconv.ParseFloat(value, 64)
		out[verb+" "+resource] += n
	}
	return out, sc.Err()
}

// writesTable lists the manager's writes by kind until Ready, per served space:
// the API server's counts after minus before, less what the benchmark itself
// created (a namespace and a space for each space).
func WritesTable(before, after map[string]float64, created, served int) string {
	var b strings.Builder
	b.WriteString("| write (API server's count, less the benchmark's own creates) | all | per served space |\n|---|---:|---:|\n")
	for _, k := range slices.Sorted(maps.Keys(after)) {
		n := after[k] - before[k]
		if k == "POST namespaces" || k == "POST collaborationspaces" {
			n -= float64(created)
		}
		if n <= 0 || strings.HasPrefix(k, "POST tokenreviews") || strings.HasPrefix(k, "POST subjectaccessreviews") {
			continue
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.2f |\n", k, n, n/float64(served))
	}
	return b.String()
}
