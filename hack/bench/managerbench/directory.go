package managerbench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/hack/bench/benchkit"
	"github.com/opencommons/collab-operator/internal/testing/slapd"
	"github.com/opencommons/collab-operator/internal/testing/testenv"
)

// directoryOptions are the settings of -mode directory.
type DirectoryOptions struct {
	People, Groups int
	Poll           time.Duration // the PeopleDirectory's pollInterval
	SteadyPolls    int           // polls counted in the steady state
}

// directoryResult is what -mode directory measured.
type directoryResult struct {
	people, groups, spaces int
	poll                   time.Duration
	resolve, reachSpaces   time.Duration
	fullQueries            float64
	steadyPolls            int
	steadyQueries          float64
	steadyWrites           int
	change                 time.Duration
	before, after          memSample
	peak                   uint64
	changeDetection        string
}

// runDirectory is -mode directory: a directory of o.directory.people people in
// o.directory.groups groups on a real slapd, one space per group (permissions
// only), the manager as its own process. It measures the time until the
// PeopleDirectory has resolved every group and until every space records its
// people, the queries of that full read, the manager's memory, and then, over a
// number of polls of an unchanged directory, the queries per poll and the writes
// to the API server; last, how long one person added to a group takes to reach
// the space's status.
func RunDirectory(ctx context.Context, o Options) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	d := o.Directory
	b := &directoryBench{
		o:        o,
		w:        benchkit.Workload{Spaces: d.Groups, Rooms: 0, Owners: min(o.Owners, d.Groups)},
		perGroup: d.People / d.Groups,
		res:      directoryResult{people: d.People, groups: d.Groups, spaces: d.Groups, poll: d.Poll, steadyPolls: d.SteadyPolls},
	}

	benchkit.Progress("directory: seeding slapd with %d people in %d groups", d.People, d.Groups)
	ldapSrv, err := slapd.Start(ctx, slapd.Options{Seed: directorySeed(b.w, d, b.perGroup)})
	if err != nil {
		return err
	}
	defer func() { _ = ldapSrv.Stop() }()
	b.ldap = ldapSrv

	benchkit.Progress("directory: starting kube-apiserver + etcd (envtest)")
	env, cfg, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	if b.direct, err = client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bench-directory-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	bin, err := managerBinary(ctx, tmp, o.Secrets.Manager)
	if err != nil {
		return err
	}
	if err := b.direct.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchkit.OperatorNamespace}}); err != nil {
		return err
	}
	if b.mgr, err = startManagerProcess(ctx, env, tmp, bin); err != nil {
		return err
	}
	defer b.mgr.stop()

	if err := b.measure(ctx); err != nil {
		return err
	}
	md := b.res.markdown()
	fmt.Print(md)
	if o.Out != "" {
		return os.WriteFile(o.Out, []byte(md), 0o644)
	}
	return nil
}

// directoryBench is what the phases of -mode directory share.
type directoryBench struct {
	o        Options
	w        benchkit.Workload
	perGroup int
	ldap     *slapd.Server
	direct   client.WithWatch
	mgr      *managerProcess
	res      directoryResult
}

// directorySeed is the LDIF of d.people people, perGroup of them in each of
// d.groups groups, one group per space of w.
func directorySeed(w benchkit.Workload, d DirectoryOptions, perGroup int) string {
	var seed strings.Builder
	sfx := slapd.DefaultSuffix
	for p := range d.People {
		fmt.Fprintf(&seed, "dn: uid=person%05d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: person%05d\ncn: p\nsn: p\nmail: person%05d@example.org\n\n", p, sfx, p, p)
	}
	for g := range d.Groups {
		fmt.Fprintf(&seed, "dn: cn=%s-staff,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s-staff\n", w.SpaceName(g), sfx, w.SpaceName(g))
		for p := g * perGroup; p < (g+1)*perGroup; p++ {
			fmt.Fprintf(&seed, "member: uid=person%05d,ou=people,%s\n", p, sfx)
		}
		seed.WriteString("\n")
	}
	return seed.String()
}

// peopleDirectory is the default PeopleDirectory over ldap, polled every
// poll, and the Secret of the account it binds as.
func peopleDirectory(ldap *slapd.Server, poll time.Duration) (*corev1.Secret, *collabv1.PeopleDirectory) {
	sfx := slapd.DefaultSuffix
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "directory-bind", Namespace: benchkit.OperatorNamespace},
		Data:       map[string][]byte{"bindDN": []byte(ldap.ReaderDN), "password": []byte(ldap.ReaderPassword)},
	}
	dir := &collabv1.PeopleDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: "company"},
		Spec: collabv1.PeopleDirectorySpec{Default: true, PollInterval: metav1.Duration{Duration: poll},
			LDAP: &collabv1.LDAPDirectory{URL: ldap.URL, TLS: collabv1.LDAPTLSNone,
				BindSecretRef: &collabv1.SecretReference{Name: secret.Name},
				UserBaseDN:    "ou=people," + sfx, GroupBaseDN: "ou=groups," + sfx}},
	}
	return secret, dir
}

// measure runs the phases of -mode directory against the running slapd, API
// server and manager, and records what they measured in b.res.
func (b *directoryBench) measure(ctx context.Context) error {
	if err := b.createSpaces(ctx); err != nil {
		return err
	}
	if err := b.resolve(ctx); err != nil {
		return err
	}
	if err := b.steadyState(ctx); err != nil {
		return err
	}
	return b.change(ctx)
}

// createSpaces creates one space per group, waits for them to be Ready and
// samples the manager's memory before any directory exists.
func (b *directoryBench) createSpaces(ctx context.Context) error {
	w, direct := b.w, b.direct
	benchkit.Progress("directory: %d spaces (permissions only), one per group", w.Spaces)
	for i := range w.Spaces {
		if err := direct.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.Namespace(i)}}); err != nil {
			return err
		}
		space := w.Space(i, "")
		space.Spec.Chat = nil
		if err := direct.Create(ctx, space); err != nil {
			return err
		}
	}
	if err := waitSpacesReady(ctx, direct, w.Spaces, b.o.Timeout); err != nil {
		return err
	}
	if err := benchkit.Sleep(ctx, 10*time.Second); err != nil {
		return err
	}
	var err error
	b.res.before, err = b.mgr.sample(ctx)
	return err
}

// resolve creates the PeopleDirectory and measures the time until it has
// resolved every group and until every space records its people, and the
// queries of that full read.
func (b *directoryBench) resolve(ctx context.Context) error {
	o, d, direct, mgr := b.o, b.o.Directory, b.direct, b.mgr
	benchkit.Progress("directory: the PeopleDirectory appears; resolving")
	secret, dir := peopleDirectory(b.ldap, d.Poll)
	if err := direct.Create(ctx, secret); err != nil {
		return err
	}
	q0, err := mgr.directoryQueries(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := direct.Create(ctx, dir); err != nil {
		return err
	}
	if err := poll(ctx, o.Timeout, func() (bool, error) {
		if err := direct.Get(ctx, client.ObjectKeyFromObject(dir), dir); err != nil {
			return false, err
		}
		return int(dir.Status.People) == b.perGroup*d.Groups && len(dir.Status.Groups) == d.Groups, nil
	}); err != nil {
		return fmt.Errorf("the directory did not resolve: %w", err)
	}
	b.res.resolve = time.Since(start)
	b.res.changeDetection = dir.Status.ChangeDetection
	if err := poll(ctx, o.Timeout, func() (bool, error) {
		n, err := spacesWithPeople(ctx, direct, b.perGroup)
		return n == b.w.Spaces, err
	}); err != nil {
		return fmt.Errorf("the spaces did not record their people: %w", err)
	}
	b.res.reachSpaces = time.Since(start)
	q1, err := mgr.directoryQueries(ctx)
	if err != nil {
		return err
	}
	b.res.fullQueries = q1 - q0
	return nil
}

// steadyState measures, over a number of polls of an unchanged directory, the
// queries per poll, the writes to the API server and the manager's memory.
func (b *directoryBench) steadyState(ctx context.Context) error {
	d, direct, mgr, res := b.o.Directory, b.direct, b.mgr, &b.res
	benchkit.Progress("directory: steady state over %d polls of %s", d.SteadyPolls, d.Poll)
	if err := benchkit.Sleep(ctx, 2*d.Poll); err != nil { // the passes the resolution started end
		return err
	}
	rv0, err := resourceVersions(ctx, direct)
	if err != nil {
		return err
	}
	q2, err := mgr.directoryQueries(ctx)
	if err != nil {
		return err
	}
	if err := benchkit.Sleep(ctx, time.Duration(d.SteadyPolls)*d.Poll); err != nil {
		return err
	}
	q3, err := mgr.directoryQueries(ctx)
	if err != nil {
		return err
	}
	rv1, err := resourceVersions(ctx, direct)
	if err != nil {
		return err
	}
	res.steadyQueries = (q3 - q2) / float64(d.SteadyPolls)
	for k, v := range rv1 {
		if rv0[k] != v {
			res.steadyWrites++
		}
	}
	if res.after, err = mgr.sample(ctx); err != nil {
		return err
	}
	res.peak = benchkit.PeakRSS(mgr.cmd.Process.Pid)
	return nil
}

// change measures how long one person added to a group takes to reach the
// space's status.
func (b *directoryBench) change(ctx context.Context) error {
	w, direct, sfx := b.w, b.direct, slapd.DefaultSuffix
	benchkit.Progress("directory: one person joins a group")
	start := time.Now()
	if err := b.ldap.AddMember("cn="+w.SpaceName(0)+"-staff,ou=groups,"+sfx, "member", "uid=person09999,ou=people,"+sfx); err != nil {
		return err
	}
	if err := poll(ctx, b.o.Timeout, func() (bool, error) {
		s := &collabv1.CollaborationSpace{}
		if err := direct.Get(ctx, client.ObjectKey{Namespace: w.Namespace(0), Name: w.SpaceName(0)}, s); err != nil {
			return false, err
		}
		return s.Status.Members != nil && membersCounted(s.Status.Members) == b.perGroup+1, nil
	}); err != nil {
		return err
	}
	b.res.change = time.Since(start)
	return nil
}

// spacesWithPeople counts the spaces whose status records n people and a True
// MembersReady.
func spacesWithPeople(ctx context.Context, c client.Client, n int) (int, error) {
	var list collabv1.CollaborationSpaceList
	if err := c.List(ctx, &list); err != nil {
		return 0, err
	}
	done := 0
	for _, s := range list.Items {
		cond := meta.FindStatusCondition(s.Status.Conditions, collabv1.MembersReadyCondition)
		if s.Status.Members != nil && membersCounted(s.Status.Members) == n && cond != nil && cond.Status == metav1.ConditionTrue {
			done++
		}
	}
	return done, nil
}

// resourceVersions maps every space and directory to its resourceVersion: one
// that moved was written.
func resourceVersions(ctx context.Context, c client.Client) (map[string]string, error) {
	out := map[string]string{}
	var spaces collabv1.CollaborationSpaceList
	if err := c.List(ctx, &spaces); err != nil {
		return nil, err
	}
	for _, s := range spaces.Items {
		out["space/"+s.Namespace+"/"+s.Name] = s.ResourceVersion
	}
	var dirs collabv1.PeopleDirectoryList
	if err := c.List(ctx, &dirs); err != nil {
		return nil, err
	}
	for _, d := range dirs.Items {
		out["directory/"+d.Name] = d.ResourceVersion
	}
	return out, nil
}

func poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if err := benchkit.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("not within %s", timeout)
}

// directoryQueries sums collab_directory_queries_total from the manager's metrics.
func (p *managerProcess) directoryQueries(ctx context.Context) (float64, error) {
	const name = "collab_directory_queries_total"
	sum := 0.0
	err := scanMetrics(ctx, p.metrics, func(line string) {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f, _ := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			sum += f
		}
	})
	return sum, err
}

func (r directoryResult) markdown() string {
	var b strings.Builder
	b.WriteString("### A directory of people in groups (-mode directory)\n\n")
	fmt.Fprintf(&b, "slapd with %d people in %d groups of %d; %d spaces (permissions only), each with one group as a "+
		"Group member; the manager as its own process; PeopleDirectory pollInterval %s; change detection %s.\n\n",
		r.people, r.groups, r.people/r.groups, r.spaces, r.poll, r.changeDetection)
	b.WriteString("| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| directory resolved (every group's people in its status), from its creation | %s |\n", r.resolve.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "| every space records its people (status.members, MembersReady) | %s |\n", r.reachSpaces.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "| LDAP requests of the first full read (binds and searches, pages counted) | %.0f |\n", r.fullQueries)
	fmt.Fprintf(&b, "| steady state: LDAP requests per poll (%d polls) | %.2f |\n", r.steadyPolls, r.steadyQueries)
	fmt.Fprintf(&b, "| steady state: objects written to the API server | %d |\n", r.steadyWrites)
	fmt.Fprintf(&b, "| one person added to a group → the space's status.members | %s |\n", r.change.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "| manager RSS: spaces Ready, before the directory | %s |\n", benchkit.MiB(r.before.rss))
	fmt.Fprintf(&b, "| manager RSS: directory resolved, steady state | %s (Go heap in use %s) |\n", benchkit.MiB(r.after.rss), benchkit.MiB(r.after.heap))
	fmt.Fprintf(&b, "| manager peak RSS (VmHWM) | %s |\n", benchkit.MiB(r.peak))
	return b.String()
}

// membersCounted is how many people resolved with role Member: status counts
// them all and names at most 1,000.
func membersCounted(st *collabv1.MembersStatus) int {
	if st.Counts != nil {
		return int(st.Counts.Members)
	}
	return len(st.Members)
}
