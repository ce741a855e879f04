package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"
)

// Mailpit returns the SMTP address and API URL of a Mailpit server
// (OPSIAM_TEST_SMTP_ADDR, OPSIAM_TEST_MAILPIT_URL; .ci/run starts one)
// after checking that its API answers.
func Mailpit(t testing.TB) (smtpAddr, apiURL string) {
	t.Helper()
	smtpAddr, apiURL = os.Getenv("OPSIAM_TEST_SMTP_ADDR"), os.Getenv("OPSIAM_TEST_MAILPIT_URL")
	if smtpAddr == "" || apiURL == "" {
		Missing(t, "OPSIAM_TEST_SMTP_ADDR and OPSIAM_TEST_MAILPIT_URL are not set (see .ci/run)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", apiURL+"/api/v1/info", nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	if err != nil {
		Missing(t, "Mailpit at %s does not answer: %v", apiURL, err)
	}
	return smtpAddr, apiURL
}

// MailpitMessage is a mail read back from Mailpit.
type MailpitMessage struct {
	ID      string
	Subject string
	Text    string
}

// MailpitWait waits up to 15 seconds for n mails to the address to, and
// returns them newest first. Tests give each mail a unique recipient, as
// tests of several packages share one Mailpit.
func MailpitWait(t testing.TB, apiURL, to string, n int) []MailpitMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var list struct {
			Messages []struct{ ID string }
		}
		getJSON(t, apiURL+"/api/v1/search?query="+url.QueryEscape(`to:"`+to+`"`), &list)
		if len(list.Messages) >= n {
			out := make([]MailpitMessage, 0, len(list.Messages))
			for _, m := range list.Messages {
				var msg MailpitMessage
				getJSON(t, apiURL+"/api/v1/message/"+url.PathEscape(m.ID), &msg)
				out = append(out, msg)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("Mailpit: %d mails to %s after 15 s, want %d", len(list.Messages), to, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("Mailpit: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("Mailpit: GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("Mailpit: GET %s: %v", u, err)
	}
}
