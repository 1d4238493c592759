package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	collabv1 "github.com/opencommons/collab-operator/api/v1alpha1"
	"github.com/opencommons/collab-operator/internal/forum"
)

// GroupNames are the names of a space's three groups.
type GroupNames struct{ Owners, Moderators, Members string }

// NamesFor returns the group names for a prefix.
func NamesFor(prefix string) GroupNames {
	return GroupNames{
		Owners:     prefix + "-owners",
		Moderators: prefix + "-moderators",
		Members:    prefix + "-members",
	}
}

// All returns the names in the order owners, moderators, members.
func (g GroupNames) All() []string { return []string{g.Owners, g.Moderators, g.Members} }

// digestLen is the number of hex digits of Digest.
const digestLen = 12

// Identity is "<namespace>/<name>": what names in a shared forum are made from.
// Neither part can hold a slash, a space or a parenthesis, so it is unambiguous.
func Identity(space *collabv1.CollaborationSpace) string {
	return space.Namespace + "/" + space.Name
}

// Digest is the first 12 hex digits of sha256("<namespace>/<name>").
func Digest(space *collabv1.CollaborationSpace) string {
	sum := sha256.Sum256([]byte(Identity(space)))
	return hex.EncodeToString(sum[:])[:digestLen]
}

// GroupPrefixFor returns the prefix of the space's group names: its name in a
// deployed forum, "<name>-<digest>" in a shared one.
func GroupPrefixFor(space *collabv1.CollaborationSpace, shared bool) string {
	if shared {
		return space.Name + "-" + Digest(space)
	}
	return space.Name
}

// GroupNamesFor returns the names of the space's groups.
func GroupNamesFor(space *collabv1.CollaborationSpace, shared bool) GroupNames {
	return NamesFor(GroupPrefixFor(space, shared))
}

// DepartmentCategoryName is the name of the space's own category in a shared
// forum: "<department> (<namespace>/<name>)".
func DepartmentCategoryName(space *collabv1.CollaborationSpace) string {
	return space.Spec.Department + " (" + Identity(space) + ")"
}

// IsDepartmentCategoryOf reports whether a category of that name is the space's
// department category, whatever department it was named after: the name ends
// with the space's identity. Only forum administrators make categories, and the
// operator names each one after the space it makes it for.
func IsDepartmentCategoryOf(space *collabv1.CollaborationSpace, name string) bool {
	return strings.HasSuffix(name, " ("+Identity(space)+")")
}

// ProofSubject is what a group's proof signs: the space's identity and the
// group's name, so a proof shows whose group it is, not only that the operator
// made it.
func ProofSubject(space *collabv1.CollaborationSpace, group string) string {
	return "collab-operator forum group v1\n" + Identity(space) + "\n" + group
}

const proofTagPrefix = "[collab-proof:"

// proofTag is how a proof ends a group's description.
func proofTag(proof string) string { return proofTagPrefix + proof + "]" }

// Proven reports whether observed carries desired's proof: it was made (or last
// written) by the operator for the space desired belongs to. A desired group
// without a proof (no forum.DesiredInput.Proof) proves nothing.
func Proven(desired forum.GroupSpec, observed forum.ObservedGroup) bool {
	i := strings.LastIndex(desired.Description, proofTagPrefix)
	if i < 0 || observed.System {
		return false
	}
	return strings.Contains(observed.Description, desired.Description[i:])
}

// LegacyGroupNames are the names earlier releases gave the space's groups in a
// shared forum, without its namespace: "<name>-owners"…
func LegacyGroupNames(space *collabv1.CollaborationSpace) GroupNames {
	return NamesFor(space.Name)
}

// IsLegacyGroupOf reports whether a group under a legacy name says it was made
// for exactly this space: its description ends as earlier releases wrote it,
// "… Kept by collab-operator for CollaborationSpace <namespace>/<name>.". That is
// no proof (anyone who may create a group can write it), so it only ever
// narrows access: the group loses its privileges in the space's own categories.
func IsLegacyGroupOf(space *collabv1.CollaborationSpace, observed forum.ObservedGroup) bool {
	return !observed.System && strings.HasSuffix(observed.Description, " "+keptBy(space))
}

func keptBy(space *collabv1.CollaborationSpace) string {
	return "Kept by collab-operator for CollaborationSpace " + Identity(space) + "."
}
