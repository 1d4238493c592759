package controllers

import (
	"fmt"
	"strings"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// TestAGroupPastThePeopleLimitInvitesNobody: a department adds the group
// all-staff (12 people here, the whole organisation in real life) to its
// space, while its CollaborationPolicy allows 8 people per space. The
// resolution is not applied: nobody of all-staff is invited, the people the
// space had stay, MembersReady names the count, the limit and the policy, and
// the space stays Ready. Raising the limit lets them in.
func TestAGroupPastThePeopleLimitInvitesNobody(t *testing.T) {
	ctx := testCtx(t)
	var extra strings.Builder
	var staff []string
	for i := 1; i <= 12; i++ {
		name := fmt.Sprintf("staff%02d", i)
		if _, err := register(ctx, name, false); err != nil && !strings.Contains(err.Error(), "M_USER_IN_USE") {
			t.Fatal(err)
		}
		extra.WriteString(ldapPerson(name))
		staff = append(staff, personDN(name))
	}
	extra.WriteString(ldapGroup("all-staff", staff...))
	o := startOrg(t, "org-limit", extra.String())
	ns := newNamespace(t)
	labelNamespace(t, ns, "policy-test", ns)
	policyName := "people-" + ns
	createPolicy(t, policyName, ns, collabv1.CollaborationPolicySpec{
		Limits: &collabv1.PolicyLimits{People: ptr.To[int32](8)},
	})
	space := groupSpace(ns, "eng", o.backend, collabv1.MemberPolicyAdditive)
	createGroupSpace(t, space)
	space = waitReady(t, client.ObjectKeyFromObject(space))
	// People are invited to the department's space, which offers its rooms.
	invitedTo := space.Status.Chat.SpaceID
	eventually(t, "alice invited", func() (bool, string) {
		m := membership(t, invitedTo, "alice")
		return m == "invite" || m == "join", m
	})

	updateSpace(t, space, func(s *collabv1.CollaborationSpace) { // the manager may be writing its status
		s.Spec.Members = append(s.Spec.Members,
			collabv1.Member{Kind: collabv1.SubjectGroup, Name: "all-staff", Role: collabv1.RoleMember})
	}, false)
	want := "15 people resolve through the space's groups, more than the 8 CollaborationPolicy " + policyName +
		" allows (spec.limits.people)"
	eventually(t, "MembersReady to refuse the resolution", func() (bool, string) {
		s := getSpace(t, space)
		c := membersReady(s)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == collabv1.ReasonTooManyPeople &&
			c.ObservedGeneration == s.Generation && strings.Contains(c.Message, want), fmt.Sprintf("%+v", c)
	})
	s := waitReady(t, client.ObjectKeyFromObject(space))
	if m := membership(t, invitedTo, "staff01"); m != "" && m != "leave" {
		t.Errorf("staff01 is %q in the room: a resolution past the limit invited them", m)
	}
	if m := membership(t, invitedTo, "alice"); m != "invite" && m != "join" {
		t.Errorf("alice is %q in the room: the space lost the people it had", m)
	}
	if got := len(s.Status.Members.Members) + len(s.Status.Members.Owners); got != 3 {
		t.Errorf("status lists %d people, want the 3 the space had", got)
	}
	var events eventsv1.EventList
	if err := k8sClient.List(ctx, &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if e.Reason == "MembersJoined" && strings.Contains(e.Note, "staff") {
			t.Errorf("event %s says %q: a resolution past the limit announced people who were not let in", e.Reason, e.Note)
		}
	}

	p := &collabv1.CollaborationPolicy{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Name: policyName}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Limits.People = ptr.To[int32](20)
	if err := k8sClient.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all-staff invited once the limit allows them", func() (bool, string) {
		m := membership(t, invitedTo, "staff12")
		return m == "invite" || m == "join", m
	})
	eventually(t, "MembersReady True once the limit allows the groups", func() (bool, string) {
		c := membersReady(getSpace(t, space))
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", c)
	})
}
