package insights

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// screenshot, when set, is where the test keeps the picture Chromium took of
// the report (docs/images/report.png: make docs-pictures).
var screenshot = flag.String("screenshot", "", "keep Chromium's picture of the HTML report at this path")

// sampleReport is the ground truth of test/client's insights test.
func sampleReport() Titled {
	f := func(v float64, people int) Figure { return Figure{Value: v, People: people} }
	hidden := func(people int) Figure { return Figure{People: people, Suppressed: true} }
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	return Titled{Name: "last 7 days", Report: Report{
		Window: Window{From: day.AddDate(0, 0, -7), To: day},
		Spaces: map[string]SpaceFigures{
			"research/research": {Messages: f(12, 10), ActivePeople: f(10, 10), Breadth: f(5.0/6, 6), Reach: f(5, 5),
				ReachShare: f(5.0/12, 5), CrossAnswers: f(5, 6), Leaders: hidden(2),
				Forum: &ForumFigures{Topics: f(3, 5), Posts: f(9, 6)}},
			"sales/sales": {Messages: f(5, 5), ActivePeople: f(5, 5), Breadth: f(5.0/6, 6), Leaders: hidden(1),
				Forum: &ForumFigures{Topics: hidden(2), Posts: hidden(3)}},
		},
		Answers: map[string]map[string]Figure{
			"sales/sales":       {"research/research": f(4, 5), "sales/sales": hidden(2)},
			"research/research": {"research/research": hidden(3), "sales/sales": hidden(2)},
		},
		OpenShare: f(7.0/17, 10),
	}}
}

// TestTheHTMLReportDrawsItsCharts renders the report in a real headless
// Chromium and looks at the picture: the heat map's strongest cell, the
// hatched hidden cells and the spaces' bars are there, and the page needs
// nothing from elsewhere.
func TestTheHTMLReportDrawsItsCharts(t *testing.T) {
	chromium, err := findChromium()
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, []Titled{sampleReport()}, DefaultMinPeople); err != nil {
		t.Fatal(err)
	}
	for _, outside := range []string{"<script", "src=", "href=", "@import"} {
		if strings.Contains(page.String(), outside) {
			t.Errorf("the page has %q: it must be self-contained", outside)
		}
	}
	dir := t.TempDir()
	html, shot := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.png")
	if err := os.WriteFile(html, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1000,1000", "--screenshot="+shot, "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	img := readPNG(t, shot)
	want := map[string]struct {
		rgb [3]uint8
		min int
	}{
		"the strongest cell of the heat map (sales answering research)": {rgb: [3]uint8{8, 81, 156}, min: 40 * 40},
		"the hatching of hidden cells and bars":                         {rgb: [3]uint8{175, 184, 193}, min: 300},
		"the spaces' bars (83%, 42% and 83% of 300 px)":                 {rgb: [3]uint8{45, 164, 78}, min: 600 * 16},
	}
	for what, c := range want {
		if got := countColor(img, c.rgb); got < c.min {
			t.Errorf("%s: %d pixels of rgb%v, want at least %d", what, got, c.rgb, c.min)
		}
	}
	if *screenshot != "" {
		data, _ := os.ReadFile(shot)
		if err := os.WriteFile(*screenshot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTheHTMLReportSaysHowMuchWasSaid: beside its bars, each space says how
// many messages and people, and its forum's topics and posts, hidden below
// the minimum as everywhere else; a space whose forum is not counted says
// nothing of one.
func TestTheHTMLReportSaysHowMuchWasSaid(t *testing.T) {
	r := sampleReport()
	r.Spaces["support/support"] = SpaceFigures{Messages: Figure{Value: 7, People: 6}, ActivePeople: Figure{Value: 6, People: 6}}
	var page bytes.Buffer
	if err := WriteHTML(&page, []Titled{r}, DefaultMinPeople); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"12 messages from 10 people; forum: 3 topics, 9 posts",
		"5 messages from 5 people; forum: · topics, · posts",
		"7 messages from 6 people</span>",
	} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page does not say %q", want)
		}
	}
}

// findChromium finds Debian's chromium, or says how to get it.
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not installed; hack/install-prereqs.sh installs it (Debian's package)")
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// countColor counts the pixels within 2 of rgb in each channel.
func countColor(img image.Image, rgb [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, rgb[0]) && near(g>>8, rgb[1]) && near(bl>>8, rgb[2]) {
				n++
			}
		}
	}
	return n
}

func near(v uint32, want uint8) bool { return v+2 >= uint32(want) && v <= uint32(want)+2 }
