package insights

import (
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"time"
)

// Titled is a report with the name of its window ("last 7 days").
type Titled struct {
	Name string
	Report
}

// WriteHTML writes one self-contained page (no scripts, no external files)
// with each report's charts: the department matrix of answers as a heat map,
// and per space bars for breadth, reach and leaders. Hidden figures are drawn
// as hatched cells and empty bars marked "·", never as numbers.
func WriteHTML(w io.Writer, reports []Titled, minPeople int) error {
	var views []windowView
	for _, r := range reports {
		views = append(views, newWindowView(r))
	}
	return page.Execute(w, map[string]any{"Windows": views, "MinPeople": minPeople})
}

// windowView is what the page draws of one report.
type windowView struct {
	Name, From, To string
	Depts          []string
	Cells          []cellView
	GridSize       int
	Spaces         []spaceView
	OpenShare      string
}

type cellView struct {
	X, Y           int
	Label, Fill    string
	Hidden, Filled bool
	// Dark cells carry a white label.
	Dark bool
}

type spaceView struct {
	Key  string
	Bars []barView
	// Counts says how much was said: messages and people, and the forum's
	// topics and posts when it is counted.
	Counts string
}

type barView struct {
	Name, Label string
	Width       float64
	Hidden      bool
}

const cellSize = 56

func newWindowView(r Titled) windowView {
	v := windowView{Name: r.Name, From: r.Window.From.Format(time.DateOnly), To: r.Window.To.Format(time.DateOnly),
		OpenShare: percentLabel(r.OpenShare)}
	depts := map[string]bool{}
	highest := 0.0
	for from, row := range r.Answers {
		depts[from] = true
		for to, f := range row {
			depts[to] = true
			if !f.Suppressed {
				highest = max(highest, f.Value)
			}
		}
	}
	v.Depts = slices.Sorted(maps.Keys(depts))
	v.GridSize = len(v.Depts) * cellSize
	for y, from := range v.Depts {
		for x, to := range v.Depts {
			f, ok := r.Answers[from][to]
			c := cellView{X: x * cellSize, Y: y * cellSize, Label: "0", Fill: "#f6f8fa"}
			switch {
			case ok && f.Suppressed:
				c.Label, c.Hidden = "·", true
			case ok && f.Value > 0:
				c.Label, c.Filled, c.Fill = fmt.Sprintf("%.0f", f.Value), true, heat(f.Value/highest)
				c.Dark = f.Value/highest > 0.5
			}
			v.Cells = append(v.Cells, c)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.Spaces)) {
		s := r.Spaces[key]
		v.Spaces = append(v.Spaces, spaceView{Key: key, Counts: countsLabel(s), Bars: []barView{
			bar("breadth", s.Breadth), bar("reach share", s.ReachShare), bar("leaders", s.Leaders)}})
	}
	return v
}

// countsLabel reads "12 messages from 10 people; forum: 3 topics, 9 posts",
// with · for a hidden figure and without the forum when it is not counted.
func countsLabel(s SpaceFigures) string {
	out := count(s.Messages) + " messages from " + count(s.ActivePeople) + " people"
	if s.Forum != nil {
		out += "; forum: " + count(s.Forum.Topics) + " topics, " + count(s.Forum.Posts) + " posts"
	}
	return out
}

// heat is a blue of the given strength, 0 to 1.
func heat(strength float64) string {
	light, dark := [3]float64{198, 219, 239}, [3]float64{8, 81, 156}
	var c [3]int
	for i := range c {
		c[i] = int(light[i] + (dark[i]-light[i])*strength)
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", c[0], c[1], c[2])
}

func bar(name string, f Figure) barView {
	if f.Suppressed {
		return barView{Name: name, Label: "·", Hidden: true}
	}
	return barView{Name: name, Label: percentLabel(f), Width: 300 * min(f.Value, 1)}
}

func percentLabel(f Figure) string {
	if f.Suppressed {
		return "·"
	}
	return fmt.Sprintf("%.0f%%", 100*f.Value)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"add":  func(a, b int) int { return a + b },
	"cell": func(i int) int { return i * cellSize }, // the i-th row or column of the heat map
	"line": func(i int) int { return i * 26 },       // the i-th bar of a space
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Openness across departments</title>
<style>
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;color:#1f2328;margin:24px;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px}h3{font-size:15px;color:#0969da}
.note{color:#656d76;font-size:13px}.big{font-size:28px;font-weight:bold}
svg text{font-size:12px;fill:#1f2328}
.space{display:flex;align-items:center;gap:16px;margin:6px 0}.space strong{width:220px}
svg text.on-dark{fill:#ffffff}
.space .note{font-weight:normal}
</style></head><body>
<svg width="0" height="0" style="position:absolute" aria-hidden="true">
<defs><pattern id="hidden" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="8" height="8" fill="#eaeef2"/><line x1="0" y1="0" x2="0" y2="8" stroke="#afb8c1" stroke-width="3"/></pattern></defs>
</svg>
<h1>Openness across departments</h1>
<p class="note">Counts only, from who sent which message when and what it answers; never what a message says.
A figure resting on fewer than {{.MinPeople}} people is hidden (·, hatched).</p>
{{range .Windows}}
<section class="window">
<h2>{{.Name}} ({{.From}} – {{.To}})</h2>
<p>Messages in Open spaces and shared rooms: <span class="big">{{.OpenShare}}</span></p>
<h3>Who answers whom (rows answer columns)</h3>
{{if not .Depts}}<p>No answers in this window.</p>{{else}}
<svg class="heatmap" xmlns="http://www.w3.org/2000/svg" width="{{add .GridSize 260}}" height="{{add .GridSize 150}}">
<g transform="translate(200,140)">
{{range $i, $d := .Depts}}<text x="-8" y="{{add (cell $i) 32}}" text-anchor="end">{{$d}}</text>
<text transform="translate({{add (cell $i) 28}},-8) rotate(-45)">{{$d}}</text>{{end}}
{{range .Cells}}<rect x="{{.X}}" y="{{.Y}}" width="54" height="54" {{if .Hidden}}fill="url(#hidden)"{{else}}fill="{{.Fill}}"{{end}} class="{{if .Filled}}filled{{else if .Hidden}}hidden{{else}}empty{{end}}"/>
<text x="{{add .X 27}}" y="{{add .Y 32}}" text-anchor="middle"{{if .Dark}} class="on-dark"{{end}}>{{.Label}}</text>{{end}}
</g></svg>{{end}}
<h3>Each space</h3>
{{range .Spaces}}<div class="space"><strong>{{.Key}}<br><span class="note">{{.Counts}}</span></strong>
<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="480" height="84">
{{range $i, $b := .Bars}}<text x="0" y="{{add (line $i) 20}}">{{$b.Name}}</text>
<rect x="110" y="{{add (line $i) 6}}" width="300" height="18" fill="{{if $b.Hidden}}url(#hidden){{else}}#eaeef2{{end}}"/>
{{if not $b.Hidden}}<rect class="bar" x="110" y="{{add (line $i) 6}}" width="{{$b.Width}}" height="18" fill="#2da44e"/>{{end}}
<text x="420" y="{{add (line $i) 20}}">{{$b.Label}}</text>{{end}}
</svg></div>{{end}}
</section>
{{end}}
</body></html>
`))
