package views

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// ActivityHours is how many hourly buckets a runtime token's sparkline shows: 7 days.
const ActivityHours = 7 * 24

// sparkline draws a token's fetches per hour (oldest first) as a small inline SVG that takes
// the text colour, so it reads in light and dark mode. It holds only numbers it formats
// itself, so it is written without escaping.
func sparkline(tokenID int64, hours []int64) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, sparklineSVG(tokenID, hours))
		return err
	})
}

func sparklineSVG(tokenID int64, hours []int64) string {
	const width, height = ActivityHours, 24
	var total, peak int64
	for _, n := range hours {
		total += n
		peak = max(peak, n)
	}
	label := fmt.Sprintf("%d fetches in the last 7 days", total)
	if total == 1 {
		label = "1 fetch in the last 7 days"
	}
	if peak > 0 {
		label += fmt.Sprintf(", at most %d in an hour", peak)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="sparkline" data-testid="sparkline-%d" data-total="%d" role="img" aria-label="%s" viewBox="0 0 %d %d" width="112" height="24" preserveAspectRatio="none">`,
		tokenID, total, label, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, label)
	// A baseline, so an idle token still shows that there is a chart.
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" class="sparkline-base"/>`, height-1, width, height-1)
	if peak > 0 {
		b.WriteString(`<polyline class="sparkline-line" points="`)
		offset := ActivityHours - len(hours) // fewer buckets than hours: align them right
		for i, n := range hours {
			y := float64(height-1) - float64(n)/float64(peak)*float64(height-3)
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(offset + i))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
