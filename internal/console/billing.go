package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"opsiam/internal/manage"
	"opsiam/internal/store"
)

// billingPage is the data of the billing page (B1): today's counts and a
// chart of the daily snapshots.
type billingPage struct {
	Now    manage.BillingCounts
	Days   []store.BillingSnapshot
	Chart  chart
	From   string
	To     string
	Report string // the REST API's report of the same days
}

// chart is a line chart of billed and non-billed users per day, drawn on
// the server as SVG (no script): polyline points in a viewBox of W × H.
type chart struct {
	W, H                  int
	Billed, NonBilled     string // "x,y x,y …"
	YTicks                []tick
	XTicks                []tick
	Left, Bottom, Top, Rt int
}

type tick struct {
	X, Y  int
	Label string
}

const (
	chartW, chartH = 720, 260
	chartLeft      = 48
	chartRight     = 12
	chartTop       = 12
	chartBottom    = 36
)

// billing shows today's counts and the last 90 days (or ?from=&to=).
func (c *Console) billing(w http.ResponseWriter, r *http.Request, v *view) error {
	if !v.Me.CanBilling() {
		return errNotFound
	}
	q := r.URL.Query()
	to, from := q.Get("to"), q.Get("from")
	if to == "" {
		to = time.Now().UTC().Format(time.DateOnly)
	}
	if from == "" {
		from = time.Now().UTC().AddDate(0, 0, -89).Format(time.DateOnly)
	}
	ctx := r.Context()
	now, err := c.svc().BillingFor(ctx, v.Me.caller())
	if err != nil {
		return err
	}
	days, err := c.svc().BillingReport(ctx, v.Me.caller(), from, to)
	if err != nil && !v.fieldErrors(err, "from", "to") {
		return err
	}
	p := billingPage{Now: now, Days: days, Chart: drawChart(days), From: from, To: to,
		Report: "/api/v1/billing/report?from=" + from + "&to=" + to}
	v.Title, v.Nav, v.Data = "billing.title", "billing", p
	c.render(w, http.StatusOK, "billing", v)
	return nil
}

// drawChart lays out the snapshots: one x step per day in the list, y from
// 0 to a round maximum of both series.
func drawChart(days []store.BillingSnapshot) chart {
	ch := chart{W: chartW, H: chartH, Left: chartLeft, Bottom: chartH - chartBottom, Top: chartTop, Rt: chartW - chartRight}
	peak := 0
	for _, d := range days {
		peak = max(peak, d.Billed, d.NonBilled)
	}
	top := niceCeil(peak)
	plotW, plotH := ch.Rt-ch.Left, ch.Bottom-ch.Top
	x := func(i int) int {
		if len(days) < 2 {
			return ch.Left + plotW/2
		}
		return ch.Left + i*plotW/(len(days)-1)
	}
	y := func(n int) int { return ch.Bottom - n*plotH/top }
	var billed, non []string
	for i, d := range days {
		billed = append(billed, fmt.Sprintf("%d,%d", x(i), y(d.Billed)))
		non = append(non, fmt.Sprintf("%d,%d", x(i), y(d.NonBilled)))
	}
	ch.Billed, ch.NonBilled = strings.Join(billed, " "), strings.Join(non, " ")
	for k := 0; k <= 4; k++ {
		n := top * k / 4
		ch.YTicks = append(ch.YTicks, tick{X: ch.Left - 6, Y: y(n), Label: fmt.Sprint(n)})
	}
	step := max(1, len(days)/6)
	for i := 0; i < len(days); i += step {
		ch.XTicks = append(ch.XTicks, tick{X: x(i), Y: ch.Bottom + 18, Label: days[i].Day[5:]})
	}
	return ch
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 4, so
// that four ticks are whole numbers).
func niceCeil(n int) int {
	if n <= 4 {
		return 4
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 4, 5, 8} {
			if m*p >= n && (m*p)%4 == 0 {
				return m * p
			}
		}
	}
}
