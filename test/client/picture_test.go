package client

import (
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pictures, when set, is the directory where the test draws what each person's
// client showed, as SVG (docs/images: `make docs-pictures`).
var pictures = flag.String("pictures", "", "directory to draw what each person's client showed into, as SVG")

// view is what one person's client showed: invitations, then a space's rooms.
type view struct {
	Person, Who string
	Invites     []string
	Space       []line
	Note        string
}

// line is one row of a drawn space: a name, how deep, and what the client says
// about it.
type line struct {
	Depth      int
	Last       bool
	Name, Hint string
}

// spaceLines draws the hierarchy of root as a client's space panel: the space,
// then each child it links, with its join rule and whether it is suggested.
func (n names) spaceLines(rooms []hierarchyRoom, root string) []line {
	byID := map[string]hierarchyRoom{}
	for _, r := range rooms {
		byID[r.ID] = r
	}
	top := byID[root]
	hint := "space, " + top.JoinRule
	if top.WorldReadable {
		hint += ", browsable"
	}
	out := []line{{Name: top.Name, Hint: hint}}
	for i, c := range top.Children {
		child, ok := byID[c.ID]
		name, hint := child.Name, child.JoinRule
		if !ok { // Dendrite describes no child to a non-member: the link alone
			name, hint = displayNames[n.key(c.ID)], "link only"
		}
		if c.Suggested {
			hint += ", suggested"
		}
		out = append(out, line{Depth: 1, Last: i == len(top.Children)-1, Name: name, Hint: hint})
	}
	return out
}

// draw writes v as an SVG into the pictures directory, if one was given.
func draw(t *testing.T, v view) {
	t.Helper()
	if *pictures == "" {
		return
	}
	const lineHeight, width = 22, 640
	var rows []string
	y := 34
	text := func(x int, class, s string) {
		rows = append(rows, fmt.Sprintf(`<text x="%d" y="%d" class="%s">%s</text>`, x, y, class, html.EscapeString(s)))
		y += lineHeight
	}
	text(16, "title", fmt.Sprintf("%s — %s", v.Person, v.Who))
	y += 6
	text(16, "head", "Invitations")
	if len(v.Invites) == 0 {
		text(32, "dim", "none")
	}
	for _, inv := range v.Invites {
		text(32, "room", "✉ "+inv)
	}
	y += 6
	text(16, "head", "Space panel (/hierarchy)")
	for _, l := range v.Space {
		prefix := "▣ "
		switch {
		case l.Depth > 0 && l.Last:
			prefix = "└ # "
		case l.Depth > 0:
			prefix = "├ # "
		}
		rows = append(rows, fmt.Sprintf(`<text x="%d" y="%d" class="dim">%s</text>`, 380, y, html.EscapeString(l.Hint)))
		text(32+16*l.Depth, "room", prefix+l.Name)
	}
	if v.Note != "" {
		y += 6
		text(16, "dim", v.Note)
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">
<style>text{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;font-size:14px;fill:#1f2328}
.title{font-size:16px;font-weight:bold}.head{font-weight:bold;fill:#0969da}.dim{fill:#656d76;font-size:13px}</style>
<rect x="0.5" y="0.5" width="%d" height="%d" rx="8" fill="#f6f8fa" stroke="#d0d7de"/>
%s
</svg>
`, width, y, width, y, width-1, y-1, strings.Join(rows, "\n"))
	path := filepath.Join(*pictures, "client-"+v.Person+".svg")
	if err := os.WriteFile(path, []byte(svg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("drew %s", path)
}
