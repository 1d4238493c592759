package nodebb

import "testing"

func TestSlugify(t *testing.T) {
	cases := map[string]string{
		"eng-members":             "eng-members",
		"Global Moderators":       "global-moderators",
		"  RFCs & Proposals  ":    "rfcs-proposals",
		"a,b":                     "a-b",
		"--x--":                   "x",
		"Ünïcode name":            "ünïcode-name",
		"user@example.org":        "user@example.org",
		"..":                      "",
		"":                        "",
		"Café / Lounge":           "café-lounge",
		"dept_eng.team":           "dept_eng.team",
		"Many    spaces\tand\nNL": "many-spaces-and-nl",
	}
	for in, want := range cases {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
