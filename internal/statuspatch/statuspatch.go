// Package statuspatch is the one way the controllers write a status, in the way
// Cluster API's patch helper owns its conditions: a merge patch of what changed
// since the object was read, nothing when nothing did, and only the condition
// types the writer owns. Each kind has one writer per condition type; a writer
// that owns none (the backend protection's usedBy, the stream's position) can
// change no condition, whatever its copy of the object says.
package statuspatch

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Object is a kind whose status holds conditions.
type Object interface {
	client.Object
	// ConditionsOf returns the status's conditions, to be read and set.
	ConditionsOf() *[]metav1.Condition
}

// Patch writes obj's status as it changed since before, with the conditions
// of the owned types as obj has them and every other condition as before had
// it. It writes nothing when the status did not change, and an object that is
// gone is not an error (its next reconcile finds it gone).
func Patch(ctx context.Context, c client.Client, before, obj Object, owned ...string) error {
	keepOthers(before, obj, owned)
	if sameStatus(before, obj) {
		return nil
	}
	// Worked out once: the same patch tells whether the status changed and is
	// what is sent.
	data, err := client.MergeFrom(before).Data(obj)
	if err != nil {
		return err
	}
	if changed, err := changesStatus(data); err != nil || !changed {
		return err
	}
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, data)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("cannot patch the status of %s: %w", obj.GetName(), err))
	}
	return nil
}

// sameStatus says whether the two statuses are equal, field by field: then
// the patch would hold no status. Most passes change nothing, and working the
// patch out (both objects to JSON and back to maps) cost about 39 KiB a pass:
// 380 MiB of garbage when a restarted manager passes over 10,000 spaces. A
// status that differs only in a way JSON does not show (an empty list against
// none) is still told apart by the patch.
func sameStatus(before, obj Object) bool {
	b, o := statusOf(before), statusOf(obj)
	return b.IsValid() && o.IsValid() && reflect.DeepEqual(b.Interface(), o.Interface())
}

// statusOf is a pointer to obj's Status field; invalid when it has none.
func statusOf(obj Object) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	f := v.Elem().FieldByName("Status")
	if !f.IsValid() {
		return reflect.Value{}
	}
	return f.Addr()
}

// keepOthers puts back, in obj, every condition whose type is not owned as
// before had it.
func keepOthers(before, obj Object, owned []string) {
	prev := *before.ConditionsOf()
	var out []metav1.Condition
	for _, c := range *obj.ConditionsOf() {
		if slices.Contains(owned, c.Type) {
			out = append(out, c)
		}
	}
	for _, c := range prev {
		if !slices.Contains(owned, c.Type) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b metav1.Condition) int { return order(prev, a.Type) - order(prev, b.Type) })
	*obj.ConditionsOf() = out
}

// order keeps conditions where they were: known types in their old place, new
// ones after them.
func order(prev []metav1.Condition, t string) int {
	if i := slices.IndexFunc(prev, func(c metav1.Condition) bool { return c.Type == t }); i >= 0 {
		return i
	}
	return len(prev)
}

// changesStatus says whether the merge patch from before to obj touches the
// status: a change of metadata alone (a finalizer added in memory) is no
// reason to write it.
func changesStatus(data []byte) (bool, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return false, err
	}
	_, ok := fields["status"]
	return ok, nil
}
