package validate_test

import (
	"fmt"
	"math/rand"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/chat"
	"github.com/opencommons/collab-operator/internal/chat/matrix"
	"github.com/opencommons/collab-operator/internal/validate"
)

// randomCases is how many random manifest sets TestAliasCollisionsMatchTheOperator
// checks; each takes a few milliseconds.
const randomCases = 3000

// labels are the DNS labels names are drawn from: few, and alike, so that
// names made by joining them (the aliases of earlier releases joined space and
// room with "-") meet often.
// chatInput is what the operator knows before a space has rooms.
var chatInput = chat.DesiredInput{OperatorUserID: "@operator:x.example"}

var labels = []string{"a", "b", "a-b", "b-a", "ab", "directory", "a-b-a"}

// randomBackend is a ChatBackend among the set, as the operator reads it.
type randomBackend struct {
	backend *collabv1.ChatBackend
	yaml    string
}

// randomSpace is a CollaborationSpace among the set.
type randomSpace struct {
	space *collabv1.CollaborationSpace
	yaml  string
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.Intn(len(xs))] }

// randomSet draws one to three ChatBackends on two servers, some with a
// directory space, and one to six spaces in three namespaces with up to three
// rooms each: a set of manifests the API server accepts, each object once.
func randomSet(rng *rand.Rand) ([]randomBackend, []randomSpace) {
	var backends []randomBackend
	for i := range 1 + rng.Intn(3) {
		b := &collabv1.ChatBackend{}
		b.Name = fmt.Sprintf("chat-%d", i)
		b.Spec.Matrix = &collabv1.MatrixBackend{ServerName: pick(rng, []string{"x.example", "y.example"})}
		y := fmt.Sprintf(`apiVersion: collab.opencommons.io/v1alpha1
kind: ChatBackend
metadata: {name: %s}
spec:
  matrix:
    homeserverURL: https://%s
    serverName: %s
    credentialsSecretRef: {namespace: s, name: c}
`, b.Name, b.Spec.Matrix.ServerName, b.Spec.Matrix.ServerName)
		if rng.Intn(5) < 4 {
			dir := &collabv1.DirectorySpace{Name: "Org", Alias: pick(rng, []string{"", "", "directory", "a"})}
			b.Spec.Matrix.DirectorySpace = dir
			if dir.Alias == "" {
				y += "    directorySpace: {name: Org}\n"
			} else {
				y += fmt.Sprintf("    directorySpace: {name: Org, alias: %s}\n", dir.Alias)
			}
		}
		backends = append(backends, randomBackend{backend: b, yaml: y})
	}
	var spaces []randomSpace
	seen := map[string]bool{}
	for range 1 + rng.Intn(6) {
		s := &collabv1.CollaborationSpace{}
		s.Namespace, s.Name = pick(rng, []string{"a", "b", "a-b"}), pick(rng, labels)
		if seen[s.Namespace+"/"+s.Name] {
			continue
		}
		seen[s.Namespace+"/"+s.Name] = true
		backend := pick(rng, backends).backend.Name
		s.Spec.Department = "Dept " + s.Namespace + " " + s.Name
		s.Spec.Members = []collabv1.Member{{Kind: collabv1.SubjectGroup, Name: "leads", Role: collabv1.RoleOwner}}
		s.Spec.Chat = &collabv1.ChatSpec{BackendRef: &collabv1.LocalObjectReference{Name: backend}}
		var rooms []string
		for _, r := range rng.Perm(len(labels))[:rng.Intn(4)] {
			s.Spec.Chat.Rooms = append(s.Spec.Chat.Rooms, collabv1.Room{Name: labels[r]})
			rooms = append(rooms, "{name: "+labels[r]+"}")
		}
		y := fmt.Sprintf(`apiVersion: collab.opencommons.io/v1alpha1
kind: CollaborationSpace
metadata: {name: %s, namespace: %s}
spec:
  department: %s
  members: [{kind: Group, name: leads, role: Owner}]
  chat:
    backendRef: {name: %s}
    rooms: [%s]
`, s.Name, s.Namespace, s.Spec.Department, backend, strings.Join(rooms, ", "))
		spaces = append(spaces, randomSpace{space: s, yaml: y})
	}
	return backends, spaces
}

// operatorConflicts are the aliases the operator would find claimed by two
// owners: it plans each space's rooms and each backend's directory space with
// the planner its Matrix connector hands out for the backend, and a room whose
// alias is held by another owner's room is an AliasConflict.
func operatorConflicts(t *testing.T, backends []randomBackend, spaces []randomSpace) []string {
	t.Helper()
	owners := map[string]map[string]bool{} // full alias -> owners
	claim := func(alias, owner string) {
		if owners[alias] == nil {
			owners[alias] = map[string]bool{}
		}
		owners[alias][owner] = true
	}
	byName := map[string]*collabv1.ChatBackend{}
	for _, b := range backends {
		byName[b.backend.Name] = b.backend
		p, err := (&matrix.Connector{}).Planner(b.backend)
		if err != nil {
			t.Fatal(err)
		}
		if dir := b.backend.Spec.Matrix.DirectorySpace; dir != nil {
			d := p.Directory(b.backend.Name, *dir, chatInput.OperatorUserID, nil)
			claim(d.CanonicalAlias, d.Owner)
		}
	}
	for _, s := range spaces {
		p, err := (&matrix.Connector{}).Planner(byName[s.space.Spec.Chat.BackendRef.Name])
		if err != nil {
			t.Fatal(err)
		}
		spaceRoom, rooms, err := p.DesiredRooms(s.space, chatInput)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(rooms, spaceRoom) {
			claim(r.CanonicalAlias, r.Owner)
		}
	}
	var conflicts []string
	for alias, o := range owners {
		if len(o) > 1 {
			conflicts = append(conflicts, alias)
		}
	}
	slices.Sort(conflicts)
	return conflicts
}

var duplicateAlias = regexp.MustCompile(`^Duplicate value: "([^"]+)": alias already claimed`)

// validateConflicts are the aliases validate reports claimed twice.
func validateConflicts(findings []validate.Finding) []string {
	var conflicts []string
	for _, f := range findings {
		if m := duplicateAlias.FindStringSubmatch(f.Message); m != nil {
			conflicts = append(conflicts, m[1])
		}
	}
	slices.Sort(conflicts)
	return slices.Compact(conflicts)
}

// TestAliasCollisionsMatchTheOperator: over many random sets of valid
// manifests, validate reports exactly the aliases that the operator's own
// planners would give to two owners, no more (a set the operator makes Ready
// passes) and no fewer (a set it would stall on is refused).
func TestAliasCollisionsMatchTheOperator(t *testing.T) {
	v, err := validate.New()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(17))
	clean, conflicting := 0, 0
	for i := range randomCases {
		backends, spaces := randomSet(rng)
		var inputs []validate.Input
		for j, b := range backends {
			inputs = append(inputs, validate.Input{Name: fmt.Sprintf("backend-%d.yaml", j), Data: []byte(b.yaml)})
		}
		for j, s := range spaces {
			inputs = append(inputs, validate.Input{Name: fmt.Sprintf("space-%d.yaml", j), Data: []byte(s.yaml)})
		}
		report := v.Check(t.Context(), inputs, validate.Options{})
		want := operatorConflicts(t, backends, spaces)
		if diff := cmp.Diff(want, validateConflicts(report.Findings)); diff != "" {
			var files strings.Builder
			for _, in := range inputs {
				fmt.Fprintf(&files, "# %s\n%s", in.Name, in.Data)
			}
			t.Fatalf("case %d: aliases claimed twice (-operator +validate):\n%s\nfindings: %v\nmanifests:\n%s", i, diff, report.Findings, files.String())
		}
		for _, f := range report.Findings {
			if f.Severity == validate.SeverityError && !duplicateAlias.MatchString(f.Message) {
				t.Fatalf("case %d: a valid set has an error besides alias conflicts: %v", i, f)
			}
		}
		if len(want) == 0 {
			clean++
		} else {
			conflicting++
		}
	}
	t.Logf("%d clean and %d conflicting sets", clean, conflicting)
	// Both outcomes must be common, or the test proves little.
	if clean < randomCases/10 || conflicting < randomCases/10 {
		t.Errorf("%d clean and %d conflicting sets of %d: the generator must make both often", clean, conflicting, randomCases)
	}
}
