package httpapi

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// The audit export (O1: the audit log is searchable and exportable):
// GET /audit?format=csv, or Accept: text/csv, streams every record that
// matches the filters as RFC 4180 CSV, paging through the store.

// auditExportPage is how many records one store read fetches.
const auditExportPage = 500

// auditCSVHeader names the columns; before and after are JSON text.
var auditCSVHeader = []string{"id", "at", "actor_id", "actor_name", "action", "target_type", "target_id", "source", "before", "after"}

// wantsCSV decides the audit list's format: the format parameter (json or
// csv) wins; without it, Accept chooses text/csv when it prefers it to
// application/json.
func wantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, invalid("format", directory.CodeInvalid, "format must be json or csv.")
	}
	qCSV, qJSON := 0.0, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "text/csv":
			qCSV = max(qCSV, q)
		case "application/json":
			qJSON = max(qJSON, q)
		}
	}
	return qCSV > 0 && qCSV > qJSON, nil
}

// exportAudit writes every record matching q, newest first, as CSV. The
// first page is read before anything is written, so a failing store still
// answers a problem document; a failure after that aborts the connection,
// so that a client never takes a cut file for a whole one.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, q store.AuditQuery) error {
	q.Limit = auditExportPage
	page, err := a.Manage.ListAudit(r.Context(), actor(r), q)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit.csv"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180 §2
	_ = cw.Write(auditCSVHeader)
	flusher, _ := w.(http.Flusher)
	for {
		for _, rec := range page.Items {
			if err := cw.Write(auditCSVRow(rec)); err != nil {
				return a.abortExport(r, err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return a.abortExport(r, err)
		}
		if flusher != nil {
			flusher.Flush()
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
		if page, err = a.Manage.ListAudit(r.Context(), actor(r), q); err != nil {
			return a.abortExport(r, err)
		}
	}
}

// abortExport logs err and ends the answer without its final chunk.
func (a *API) abortExport(r *http.Request, err error) error {
	if r.Context().Err() == nil {
		a.logger().ErrorContext(r.Context(), "audit export failed", "err", err)
	}
	panic(http.ErrAbortHandler)
}

func auditCSVRow(rec store.AuditRecord) []string {
	return []string{rec.ID, rec.At.UTC().Format(time.RFC3339Nano), rec.ActorID, rec.ActorName, rec.Action,
		rec.TargetType, rec.TargetID, rec.Source, string(rec.Before), string(rec.After)}
}
