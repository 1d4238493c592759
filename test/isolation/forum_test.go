package isolation

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
	"github.com/opencommons/collab-operator/internal/forum/nodebb"
	"github.com/opencommons/collab-operator/internal/forum/nodebb/fake"
	nodebbplan "github.com/opencommons/collab-operator/internal/forum/nodebb/plan"
)

// sharedForum is the forum the suite's shared-forum attacks run on: a real NodeBB
// when NODEBB_URL and NODEBB_TOKEN are set (its users must exist), the in-repo
// fake otherwise.
type sharedForum struct {
	url, token string
	uid        int64
}

func startSharedForum(t *testing.T) sharedForum {
	t.Helper()
	if url := os.Getenv("NODEBB_URL"); url != "" {
		return sharedForum{url: url, token: os.Getenv("NODEBB_TOKEN"), uid: 1}
	}
	srv := fake.NewServer("isolation-forum-token")
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	for _, u := range []string{"vera", "walt", "mallory", "max"} {
		srv.AddUser(u)
	}
	return sharedForum{url: srv.URL(), token: "isolation-forum-token", uid: fake.AdminUID}
}

func (f sharedForum) client(t *testing.T) forum.Client {
	t.Helper()
	c, err := nodebb.New(nodebb.Config{URL: f.url, Token: f.token, UID: f.uid})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// backend registers the forum as a ForumBackend, its token in the operator's
// namespace.
func (f sharedForum) backend(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: operatorNamespace},
		Data:       map[string][]byte{"token": []byte(f.token), "uid": []byte(fmt.Sprint(f.uid))},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	b := &collabv1.ForumBackend{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: collabv1.ForumBackendSpec{NodeBB: &collabv1.NodeBBBackend{
			URL: f.url, CredentialsSecretRef: collabv1.SecretReference{Name: secret.Name},
		}},
	}
	if err := k8s.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	return name
}

func forumSpace(ns, name, department, backend, owner, member string) *collabv1.CollaborationSpace {
	s := tenantSpace(ns, name, department, owner, member)
	s.Spec.Chat = nil
	s.Spec.Forum = &collabv1.ForumSpec{
		BackendRef: &collabv1.LocalObjectReference{Name: backend},
		Categories: []collabv1.Category{{Name: "Budget"}, {Name: "Announcements", Posting: collabv1.PostingOwners}},
	}
	return s
}

// forumState is what the victim would check on the forum: each category their
// status names (name, parent, disabled, privileges) and each group (description,
// members).
func forumState(t *testing.T, f sharedForum, space *collabv1.CollaborationSpace) map[string]string {
	t.Helper()
	ctx := context.Background()
	cur := waitReady(t, space)
	st := cur.Status.Forum
	if st == nil || st.ParentCategoryID == 0 || len(st.Categories) != 2 || len(st.Groups) != 3 {
		t.Fatalf("status.forum = %+v, want a department category, two categories and three groups", st)
	}
	out := map[string]string{}
	ids := []int64{st.ParentCategoryID}
	for _, c := range st.Categories {
		ids = append(ids, c.ID)
	}
	for _, id := range ids {
		c, err := f.client(t).ObserveCategory(ctx, id, 0, "")
		if err != nil || c == nil {
			t.Fatalf("category %d: %+v, %v", id, c, err)
		}
		out[fmt.Sprintf("category %d", id)] = fmt.Sprintf("%q parent=%d disabled=%v privileges=%v", c.Name, c.ParentID, c.Disabled, c.Privileges)
	}
	for _, name := range st.Groups {
		g, err := f.client(t).ObserveGroup(ctx, name)
		if err != nil || g == nil {
			t.Fatalf("group %s: %+v, %v", name, g, err)
		}
		out["group "+name] = fmt.Sprintf("%q members=%v", g.Description, g.Members)
	}
	return out
}

// TestSharedForumIsolation: on one shared forum, spaces of other namespaces that
// copy the victim's name or department never reach its category, categories,
// groups or members, and deleting them under any policy leaves the victim's alone.
func TestSharedForumIsolation(t *testing.T) {
	f := startSharedForum(t)
	backend := f.backend(t, "shared-forum")
	victim := forumSpace("tenant-forum-victim", "finance", "Finance", backend, "vera", "walt")
	create(t, victim)
	before := forumState(t, f, victim)

	attacks := map[string]func() *collabv1.CollaborationSpace{
		"same name and department, Authoritative": func() *collabv1.CollaborationSpace {
			s := forumSpace("tenant-forum-attacker", "finance", "Finance", backend, "mallory", "max")
			s.Spec.MemberPolicy = collabv1.MemberPolicyAuthoritative
			return s
		},
		"another name, the same department": func() *collabv1.CollaborationSpace {
			return forumSpace("tenant-forum-attacker", "money", "Finance", backend, "mallory", "max")
		},
		"a department naming the victim's category": func() *collabv1.CollaborationSpace {
			return forumSpace("tenant-forum-attacker", "copycat", "Finance (tenant-forum-victim/finance)", backend, "mallory", "max")
		},
	}
	policies := []collabv1.DeletionPolicy{collabv1.DeletionPolicyDelete, collabv1.DeletionPolicyArchive, collabv1.DeletionPolicyRetain}
	for name, attack := range attacks {
		for _, policy := range policies {
			t.Run(name+", deleted under "+string(policy), func(t *testing.T) {
				attacker := attack()
				attacker.Spec.DeletionPolicy = policy
				create(t, attacker)
				mine := forumState(t, f, attacker)
				for k := range mine {
					if _, shared := before[k]; shared {
						t.Errorf("%s is both the victim's and the attacker's", k)
					}
				}
				if diff := cmp.Diff(before, forumState(t, f, victim)); diff != "" {
					t.Errorf("the attacker's space changed the victim's forum (-before +after):\n%s", diff)
				}
				deleteAndWait(t, attacker)
				if diff := cmp.Diff(before, forumState(t, f, victim)); diff != "" {
					t.Errorf("deleting the attacker's space changed the victim's forum (-before +after):\n%s", diff)
				}
			})
		}
	}

	t.Run("a group made by someone else under a space's group name is not adopted", func(t *testing.T) {
		late := forumSpace("tenant-forum-late", "hr", "HR", backend, "vera", "walt")
		owners := nodebbplan.GroupNamesFor(late, true).Owners
		squat, err := f.client(t).CreateGroup(context.Background(), forum.GroupSpec{Name: owners, Description: "mine now"})
		if err != nil {
			t.Fatal(err)
		}
		create(t, late)
		stalled := waitCondition(t, client.ObjectKeyFromObject(late), collabv1.ForumReadyCondition, metav1.ConditionFalse, "ForumConflict")
		if msg := conditionMessage(stalled, collabv1.ForumReadyCondition); strings.Contains(msg, "tenant-forum-attacker") {
			t.Errorf("ForumReady names another tenant: %q", msg)
		}
		g, err := f.client(t).ObserveGroup(context.Background(), squat.Name)
		if err != nil || g == nil || g.Description != "mine now" {
			t.Errorf("the squatting group was changed: %+v, %v", g, err)
		}
		for _, m := range g.Members {
			if m.Username == "vera" || m.Username == "walt" {
				t.Errorf("%s was added to a group the operator did not make", m.Username)
			}
		}
		deleteAndWait(t, late)
	})

	t.Run("the victim is unchanged at the end", func(t *testing.T) {
		if diff := cmp.Diff(before, forumState(t, f, victim)); diff != "" {
			t.Errorf("(-before +after):\n%s", diff)
		}
	})
}
