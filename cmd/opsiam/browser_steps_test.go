package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is a Chromium tab of a journey test with its two step helpers.
// stepTimeout, when set, bounds each step (the tab's context itself is
// left without one: chromedp closes the tab with the context of its first
// action).
type browser struct {
	t           *testing.T
	ctx         context.Context
	stepTimeout time.Duration
}

// run does one step's actions and fails the test with the page's address
// and body when one fails.
func (b browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx := b.ctx
	if b.stepTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(b.ctx, b.stepTimeout)
		defer cancel()
	}
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		page, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		b.t.Fatalf("%s: %v\nat %s:\n%s", step, err, loc, page)
	}
}

// text is the trimmed text of the first element matching sel.
func (b browser) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}
