package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"opsiam/internal/store"
)

// auditCSV exports the audit log with query q as admin and parses it.
func (e *env) auditCSV(q string, header map[string]string) [][]string {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/audit" + q, token: e.admin, header: header})
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		e.t.Fatalf("export %s: %d %s %.300s", q, r.status, r.header.Get("Content-Type"), r.raw)
	}
	if !bytes.HasSuffix(r.raw, []byte("\r\n")) {
		e.t.Fatalf("export %s: lines do not end in CRLF: %q", q, r.raw[max(0, len(r.raw)-20):])
	}
	cr := csv.NewReader(bytes.NewReader(r.raw))
	cr.FieldsPerRecord = 10
	rows, err := cr.ReadAll()
	if err != nil {
		e.t.Fatalf("export %s is not CSV: %v", q, err)
	}
	if !slices.Equal(rows[0], []string{"id", "at", "actor_id", "actor_name", "action", "target_type", "target_id", "source", "before", "after"}) {
		e.t.Fatalf("header row: %v", rows[0])
	}
	return rows[1:]
}

// auditJSON pages through the JSON audit list with query q (which must
// start with "?") and returns every record's id.
func (e *env) auditJSON(q string) []string {
	e.t.Helper()
	var ids []string
	cursor := ""
	for {
		r := e.must(200, "GET", "/audit"+q+"&limit=1000&cursor="+url.QueryEscape(cursor), nil)
		ids = append(ids, names(r.items(), "id")...)
		if cursor = r.str("next_cursor"); cursor == "" {
			return ids
		}
	}
}

// TestAuditExport: GET /audit as CSV (O1) holds every matching record over
// several store pages, applies the filters like the JSON list, keeps
// before/after as JSON text and quotes what needs quoting (RFC 4180).
func TestAuditExport(t *testing.T) {
	t.Parallel() // each test has its own database and server (issue 17, point 7)
	eachDB(t, bothDatabases, func(t *testing.T, e *env) {
		ctx := context.Background()
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		// 1,100 records: more than two pages of the export.
		err := e.db.InTx(ctx, func(tx store.Tx) error {
			for i := range 1100 {
				action := "test.even"
				if i%2 == 1 {
					action = "test.odd"
				}
				after, _ := json.Marshal(map[string]any{"n": i, "note": "a, \"quoted\"\nline"})
				if err := tx.AppendAudit(ctx, store.AuditRecord{At: base.Add(time.Duration(i) * time.Second), ActorID: "actor",
					ActorName: "Export, Tester", Action: action, TargetType: "test", TargetID: fmt.Sprint("t", i%7),
					Source: "192.0.2.1", After: after}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.must(201, "POST", "/groups", map[string]any{"name": "Exported"}) // one record by the API, with before/after

		all := e.auditCSV("?format=csv", nil)
		var ids []string
		for _, row := range all {
			ids = append(ids, row[0])
		}
		if want := e.auditJSON("?x=1"); len(all) < 1101 || !slices.Equal(ids, want) {
			t.Fatalf("export has %d rows, the JSON list %d; equal: %v", len(all), len(want), slices.Equal(ids, want))
		}
		if all[0][4] != "group.create" || all[0][8] != "" || !json.Valid([]byte(all[0][9])) {
			t.Fatalf("newest row: %v", all[0])
		}
		// Field values come back exactly, JSON columns parse.
		var odd [][]string
		odd = e.auditCSV("?format=csv&action=test.odd", nil)
		if len(odd) != 550 {
			t.Fatalf("action filter: %d rows", len(odd))
		}
		for _, row := range odd {
			var after struct {
				N    int    `json:"n"`
				Note string `json:"note"`
			}
			if row[4] != "test.odd" || row[3] != "Export, Tester" || row[7] != "192.0.2.1" ||
				json.Unmarshal([]byte(row[9]), &after) != nil || after.N%2 != 1 || after.Note != "a, \"quoted\"\nline" {
				t.Fatalf("row: %q", row)
			}
			if _, err := time.Parse(time.RFC3339Nano, row[1]); err != nil {
				t.Fatalf("at: %v", err)
			}
		}
		// Target and time filters, compared with the JSON list.
		since, until := base.Add(100*time.Second).Format(time.RFC3339), base.Add(700*time.Second).Format(time.RFC3339)
		q := "?target_id=t3&since=" + url.QueryEscape(since) + "&until=" + url.QueryEscape(until)
		rows := e.auditCSV(q+"&format=csv", nil)
		var got []string
		for _, row := range rows {
			got = append(got, row[0])
			if row[6] != "t3" {
				t.Fatalf("target filter: %v", row)
			}
		}
		if want := e.auditJSON(q); len(got) != 86 || !slices.Equal(got, want) {
			t.Fatalf("target+time filter: %d rows, JSON %d", len(got), len(want))
		}
		// Accept: text/csv chooses CSV; JSON stays the default and wins a tie.
		if rows := e.auditCSV("?action=test.even", map[string]string{"Accept": "application/json;q=0.5, text/csv"}); len(rows) != 550 {
			t.Fatalf("Accept text/csv: %d rows", len(rows))
		}
		if r := e.do(req{method: "GET", path: "/audit?limit=5", token: e.admin, header: map[string]string{"Accept": "application/json, text/csv"}}); r.status != 200 ||
			len(r.items()) != 5 || r.header.Get("Vary") != "Accept" {
			t.Fatalf("JSON by default: %d %v", r.status, r.header)
		}
		// Bad parameters are refused before anything is streamed.
		for q, field := range map[string]string{"?format=xml": "format", "?format=csv&since=yesterday": "since"} {
			r := e.do(req{method: "GET", path: "/audit" + q, token: e.admin})
			if r.status != 422 || !slices.Equal(r.fieldErrors(), []string{field + "/invalid"}) {
				t.Errorf("%s: %d %v", q, r.status, r.fieldErrors())
			}
		}
	})
}
