// Package cachetrim drops from the objects the manager caches what no pass
// reads, and shares the strings many of them repeat, so the manager's memory
// follows what it needs to decide rather than the size of what it watches. It
// is the kind-independent part of the cache transform (rbacphase.TrimForCache
// adds the Roles' and RoleBindings').
package cachetrim

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
)

// lastAppliedAnnotation is kubectl apply's copy of the applied manifest.
const lastAppliedAnnotation = corev1.LastAppliedConfigAnnotation

// Trim trims obj in place: every object loses its managed fields (often
// larger than the object itself) and kubectl apply's copy of the manifest;
// owner references share their kind and API version; a CollaborationSpace
// keeps its lists at their length and shares its policies, its members' kinds
// and roles, the people its status lists and its conditions' types, statuses
// and reasons; what is cached as
// metadata only (Namespaces) loses its UID and creation time, which no pass
// reads. The operator writes the objects it caches with patches (spaces,
// backends) or with updates of objects it made itself, and an update without
// managedFields keeps the server's: nothing is lost on the server.
func Trim(obj any) {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return // a tombstone or another non-object: leave it as it is
	}
	accessor.SetManagedFields(nil)
	if ann := accessor.GetAnnotations(); ann[lastAppliedAnnotation] != "" {
		trimmed := make(map[string]string, len(ann)-1)
		for k, v := range ann {
			if k != lastAppliedAnnotation {
				trimmed[k] = v
			}
		}
		accessor.SetAnnotations(trimmed)
	}
	accessor.SetFinalizers(internAll(accessor.GetFinalizers()))
	accessor.SetOwnerReferences(shareOwnerReferences(accessor.GetOwnerReferences()))
	switch o := obj.(type) {
	case *collabv1.CollaborationSpace:
		trimSpace(o)
	case *metav1.PartialObjectMetadata:
		o.UID = ""
		o.CreationTimestamp = metav1.Time{}
	}
}

var yes = true

// shareOwnerReferences gives owner references the strings and flags most of
// them repeat (every Role's owner is a CollaborationSpace of the same API
// version), so 50,000 of them hold one copy.
func shareOwnerReferences(refs []metav1.OwnerReference) []metav1.OwnerReference {
	for i := range refs {
		r := &refs[i]
		r.APIVersion, r.Kind = intern(r.APIVersion), intern(r.Kind)
		if r.Controller != nil && *r.Controller {
			r.Controller = &yes
		}
		if r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
			r.BlockOwnerDeletion = &yes
		}
	}
	return refs
}

// trimSpace keeps a space's lists at their length (a decoder grows them by
// doubling) and shares the values its members and conditions repeat.
func trimSpace(s *collabv1.CollaborationSpace) {
	s.Spec.Visibility = collabv1.Visibility(intern(string(s.Spec.Visibility)))
	s.Spec.MemberPolicy = collabv1.MemberPolicy(intern(string(s.Spec.MemberPolicy)))
	s.Spec.DeletionPolicy = collabv1.DeletionPolicy(intern(string(s.Spec.DeletionPolicy)))
	s.Spec.Members = slices.Clone(s.Spec.Members)
	for i := range s.Spec.Members {
		m := &s.Spec.Members[i]
		m.Kind = collabv1.SubjectKind(intern(string(m.Kind)))
		m.Role = collabv1.Role(intern(string(m.Role)))
	}
	if m := s.Status.Members; m != nil {
		m.Directory = intern(m.Directory)
		m.Owners, m.Moderators = internPeople(m.Owners), internPeople(m.Moderators)
		m.Members, m.Unmapped = internPeople(m.Members), internPeople(m.Unmapped)
	}
	s.Status.Conditions = slices.Clone(s.Status.Conditions)
	for i := range s.Status.Conditions {
		c := &s.Status.Conditions[i]
		c.Type, c.Reason = intern(c.Type), intern(c.Reason)
		c.Status = metav1.ConditionStatus(intern(string(c.Status)))
	}
}

// internPeople keeps a list of people at its length and shares their ids.
func internPeople(ids []string) []string {
	if cap(ids) > len(ids) {
		ids = slices.Clone(ids) // a new array of its length: Clip would keep the old
	}
	for i, id := range ids {
		ids[i] = internPerson(id)
	}
	return ids
}

func internAll(values []string) []string {
	for i, v := range values {
		values[i] = intern(v)
	}
	return values
}
