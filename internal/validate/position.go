package validate

import (
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// lineOf returns the line of the field at path (as the API server writes it:
// spec.chat.rooms[1].name, metadata.labels[app]) under node, or of its deepest
// ancestor that is written down: a missing required field is reported at the
// line of the object that lacks it.
func lineOf(node *yamlv3.Node, path string) int {
	line := node.Line
	for _, seg := range splitFieldPath(path) {
		next, keyLine := child(node, seg)
		if next == nil {
			break
		}
		node, line = next, keyLine
	}
	return line
}

// child returns the value under seg, and the line a reader looks at for it:
// the key's line in a mapping, the item's line in a sequence.
func child(node *yamlv3.Node, seg string) (*yamlv3.Node, int) {
	for node.Kind == yamlv3.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	switch node.Kind {
	case yamlv3.MappingNode:
		key := strings.TrimSuffix(strings.TrimPrefix(seg, "["), "]")
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == key {
				return node.Content[i+1], node.Content[i].Line
			}
		}
	case yamlv3.SequenceNode:
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(seg, "["), "]"))
		if err == nil && i >= 0 && i < len(node.Content) {
			return node.Content[i], node.Content[i].Line
		}
	}
	return nil, 0
}

// splitFieldPath splits "spec.rooms[1].name" into "spec", "rooms", "[1]",
// "name". Bracketed keys may hold dots: metadata.labels[example.com/team].
func splitFieldPath(path string) []string {
	var segs []string
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return append(segs, path)
			}
			segs = append(segs, path[:end+1])
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				return append(segs, path)
			}
			segs = append(segs, path[:end])
			path = path[end:]
		}
	}
	return segs
}
