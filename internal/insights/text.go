package insights

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints each window's figures as tables, for a terminal (collabctl
// report, make dev); · marks a figure resting on fewer than minPeople people.
func WriteText(w io.Writer, reports []Titled, incomplete []string, minPeople int) error {
	for _, r := range reports {
		say(w, "%s (%s – %s); · rests on fewer than %d people\n\n", r.Name,
			r.Window.From.Format(time.DateOnly), r.Window.To.Format(time.DateOnly), minPeople)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		_, _ = fmt.Fprintln(tw, "SPACE\tMESSAGES\tPEOPLE\tBREADTH\tREACH\tREACH SHARE\tANSWERS ACROSS\tLEADERS\tTOPICS\tPOSTS\t")
		for _, key := range slices.Sorted(maps.Keys(r.Spaces)) {
			s := r.Spaces[key]
			topics, posts := "–", "–" // no forum counted
			if s.Forum != nil {
				topics, posts = count(s.Forum.Topics), count(s.Forum.Posts)
			}
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", key, count(s.Messages), count(s.ActivePeople),
				percent(s.Breadth), count(s.Reach), percent(s.ReachShare), count(s.CrossAnswers), percent(s.Leaders), topics, posts)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		say(w, "\nWho answers whom (rows answer columns):\n\n")
		if err := writeMatrix(w, r.Answers); err != nil {
			return err
		}
		say(w, "\nMessages in Open spaces and shared rooms: %s\n\n", percent(r.OpenShare))
	}
	if len(incomplete) > 0 {
		say(w, "Rooms and forums whose history was longer than --max-pages (their oldest messages or posts are not counted): %s\n",
			strings.Join(incomplete, ", "))
	}
	return nil
}

// writeMatrix prints the department matrix of answers.
func writeMatrix(w io.Writer, answers map[string]map[string]Figure) error {
	depts := map[string]bool{}
	for from, row := range answers {
		depts[from] = true
		for to := range row {
			depts[to] = true
		}
	}
	keys := slices.Sorted(maps.Keys(depts))
	if len(keys) == 0 {
		say(w, "No answers in this window.\n")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintf(tw, "FROM \\ TO\t%s\t\n", strings.Join(keys, "\t"))
	for _, from := range keys {
		cells := make([]string, len(keys))
		for i, to := range keys {
			cells[i] = "0"
			if f, ok := answers[from][to]; ok {
				cells[i] = count(f)
			}
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t\n", from, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func count(f Figure) string {
	if f.Suppressed {
		return "·"
	}
	return fmt.Sprintf("%.0f", f.Value)
}

func percent(f Figure) string {
	if f.Suppressed {
		return "·"
	}
	return fmt.Sprintf("%.0f%%", 100*f.Value)
}

func say(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
