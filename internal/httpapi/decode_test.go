package httpapi

import (
	"net/http"
	"testing"
)

// FuzzDecodeBytes feeds arbitrary bytes to the request decoder for every
// input type: it may refuse, but never panic, and a refusal is always a
// client error (400 or 422), never a 500 (acceptance 4).
func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{`{}`, `{"username":"a"}`, `{"role_ids":["x"]}`, `{"x":1}`, `[]`, `null`, `"s"`, `{"enabled":1}`,
		`{"resource":{"type":"workflow","customers":[1]}}`, "{\"a\":\"\xff\"}", `{"expires_at":"not a time"}`, `{} x`, ``, `{"ids":[null]}`} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return &userInput{} }, func() any { return &groupInput{} }, func() any { return &roleInput{} },
		func() any { return &customerInput{} }, func() any { return &roleIDsInput{} }, func() any { return &userIDsInput{} },
		func() any { return &relationInput{} }, func() any { return &bulkInput{} }, func() any { return &tokenInput{} },
		func() any { return &accessCheckInput{} }, func() any { return &skillCheckInput{} },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mk := range targets {
			err := decodeBytes(body, mk())
			if err == nil {
				continue
			}
			if p := problemFor(err); p.Status != http.StatusBadRequest && p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%T: body %q gave %d (%v)", mk(), body, p.Status, err)
			}
		}
	})
}

func TestProblemForUnknownErrorHidesCause(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	p := problemFor(errSecret{})
	if p.Status != 500 || p.Detail == "" || p.Detail == (errSecret{}).Error() {
		t.Fatalf("%+v", p)
	}
}

type errSecret struct{}

func (errSecret) Error() string { return "password=hunter2 in a SQL error" }
