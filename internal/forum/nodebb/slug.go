package nodebb

import (
	"regexp"
	"strings"
)

// Slugify turns a name into the slug NodeBB derives from it, a port of
// public/src/modules/slugify.js: groups are addressed by slug in the API
// (/api/v3/groups/{slug}), and NodeBB refuses a group whose slug is taken by a
// user, group or category handle.
func Slugify(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if isLatin.MatchString(s) {
		s = invalidLatin.ReplaceAllString(s, "-")
	} else {
		s = invalidUnicode.ReplaceAllString(s, "-")
	}
	s = strings.ToLower(s)
	s = collapseSpace.ReplaceAllString(s, "-")
	s = collapseDash.ReplaceAllString(s, "-")
	s = strings.TrimSuffix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s == "." || s == ".." {
		return ""
	}
	return s
}

var (
	invalidUnicode = regexp.MustCompile(`[^\p{L}\s\d\-_@.]`)
	invalidLatin   = regexp.MustCompile(`[^\w\s\d\-_@.]`)
	isLatin        = regexp.MustCompile(`^[\w\d\s.,\-@]+$`)
	collapseSpace  = regexp.MustCompile(`\s+`)
	collapseDash   = regexp.MustCompile(`-+`)
)
