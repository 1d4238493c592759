package rbacphase

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/spacepass/scope"
)

// The manager's cache keeps of each Role and RoleBinding only what finds it and
// what says whether it is as its space wants it: its name, namespace, resource
// version and owner references, and a fingerprint of what it grants and of
// the operator's labels on it. A pass compares fingerprints, so a hand edit of
// rules, subjects or labels is still seen and put back, and reads the object
// whole from the API server only then.
// At 10,000 spaces the rules, subjects, label maps, UIDs and creation times of
// their 50,000 Roles and RoleBindings were a fifth of the manager's memory.
//
// The fingerprint lives in metadata.selfLink, behind fingerprintPrefix: a field
// the API server has not set since Kubernetes 1.20 and clears before it stores
// any object, so it is a free slot where a label would cost a map per object.
// trimRBAC always overwrites it, so a value someone sent is never taken for
// the cache's.
const fingerprintPrefix = "collab:"

// trimRBAC replaces a Role's or RoleBinding's content (a binding's roleRef
// too) and labels by their fingerprint, and keeps of its metadata only what a
// pass reads from the cache (SetTrimmed): an update reads the object whole first.
func trimRBAC(obj any) {
	switch o := obj.(type) {
	case *rbacv1.Role:
		trimMeta(o, &o.ObjectMeta)
		o.Rules = nil
	case *rbacv1.RoleBinding:
		trimMeta(o, &o.ObjectMeta)
		o.Subjects, o.RoleRef = nil, rbacv1.RoleRef{}
	}
}

// trimMeta replaces o's metadata m by the trimmed metadata, its fingerprint
// taken first (o's content still there).
func trimMeta(o client.Object, m *metav1.ObjectMeta) {
	fp, was := fingerprintPrefix+fingerprintOf(o, ownLabelsOf(m.Labels)), *m
	*m = metav1.ObjectMeta{}
	SetTrimmed(o, was.Namespace, was.Name, was.ResourceVersion, fp, was.OwnerReferences)
}

// SetTrimmed gives o, an object with empty metadata, the metadata the cache
// keeps of a Role or RoleBinding: its name, namespace, resource version and
// owner references, and its fingerprint as selfLink. The operator's RBAC
// store (internal/rbacstore) keeps these parts alone and makes objects of
// them with it.
func SetTrimmed(o client.Object, namespace, name, resourceVersion, fingerprint string, owners []metav1.OwnerReference) {
	o.SetNamespace(namespace)
	o.SetName(name)
	o.SetResourceVersion(resourceVersion)
	o.SetSelfLink(fingerprint)
	o.SetOwnerReferences(owners)
}

// IsTrimmed reports whether o is already as the cache keeps it: a fingerprint
// and no UID. No object the API server sends lacks a UID (and it clears
// selfLink before it stores one), so one read from it is always trimmed
// afresh, whatever selfLink someone sent.
func IsTrimmed(o client.Object) bool {
	return o.GetUID() == "" && strings.HasPrefix(o.GetSelfLink(), fingerprintPrefix)
}

// currentFingerprint is a Role's or RoleBinding's fingerprint: the one the
// cache recorded, or, for an object read whole, computed from it.
func currentFingerprint(obj client.Object) string {
	if IsTrimmed(obj) {
		return strings.TrimPrefix(obj.GetSelfLink(), fingerprintPrefix)
	}
	return fingerprintOf(obj, ownLabelsOf(obj.GetLabels()))
}

// desiredFingerprint is the fingerprint of desired as the space wants it: its
// content, with the operator's labels for the space. Whatever labels desired
// carries from a read of the server do not count.
func desiredFingerprint(desired client.Object, space *collabv1.CollaborationSpace) string {
	return fingerprintOf(desired, ownLabelsOf(scope.OwnedLabels(nil, space)))
}

// ownLabels are the labels the operator sets on what a space owns; others'
// labels on the object are theirs to keep and do not count.
type ownLabels struct {
	Space, ManagedBy, Shard string
	Sharded                 bool
}

func ownLabelsOf(l map[string]string) ownLabels {
	shard, sharded := l[collabv1.ShardLabel]
	return ownLabels{Space: l[collabv1.SpaceLabel], ManagedBy: l[collabv1.ManagedByLabel], Shard: shard, Sharded: sharded}
}

// fingerprintOf hashes what a Role or RoleBinding grants (a binding's subjects
// and the role it binds them to) with the operator's labels on it.
func fingerprintOf(obj client.Object, labels ownLabels) string {
	var content any
	switch o := obj.(type) {
	case *rbacv1.Role:
		content = o.Rules
	case *rbacv1.RoleBinding:
		content = struct {
			Subjects []rbacv1.Subject
			RoleRef  rbacv1.RoleRef
		}{o.Subjects, o.RoleRef}
	}
	data, _ := json.Marshal(struct { // rules, subjects and strings always marshal
		Content any
		Labels  ownLabels
	}{content, labels})
	sum := sha256.Sum256(data)
	return base64.RawURLEncoding.EncodeToString(sum[:12]) // 16 bytes: with the prefix, 24 a copy
}
