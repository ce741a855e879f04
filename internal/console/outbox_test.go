package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opsiam/internal/directory"
	"opsiam/internal/provision"
	"opsiam/internal/store"
)

// deadDelivery makes the user.created event of a new user dead for the
// target "itsm" the way the worker does (fan out, claim, settle as dead)
// and returns its key.
func (s *server) deadDelivery(t *testing.T, name string) store.DeliveryKey {
	t.Helper()
	ctx := context.Background()
	u := s.user(t, name)
	now := time.Now()
	if _, err := s.db.FanOut(ctx, 10000, func(store.Event) []string { return []string{"itsm"} }, now); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.db.ClaimDeliveries(ctx, store.Claim{Worker: "test", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var dead []store.Settle
	var key store.DeliveryKey
	for _, d := range claimed {
		if d.Event.Aggregate == "user:"+string(u.ID) && d.Event.Topic == provision.TopicUserCreated {
			dead = append(dead, store.Settle{Delivery: d, Err: "HTTP 503 from the ITSM app", Dead: true, Now: now})
			key = d.Key()
		}
	}
	if len(dead) != 1 {
		t.Fatalf("claimed %d user.created deliveries of %s", len(dead), name)
	}
	if n, err := s.db.SettleDeliveries(ctx, dead); err != nil || n != 1 {
		t.Fatalf("settle: %d %v", n, err)
	}
	return key
}

// TestOutboxPage: a dead delivery shows on the Outbox page with its topic,
// target, attempts and last error (P1); Replay makes it pending again with
// an audit record, a second Replay is refused (409) with the message above
// the list; Discard gives another one up; a reader without client.write
// sees neither the page, nor its navigation entry, nor can post (404).
func TestOutboxPage(t *testing.T) { t.Parallel(); databases(t, testOutboxPage) }

func testOutboxPage(t *testing.T, s *server) {
	ctx := context.Background()
	k := s.deadDelivery(t, "otto")
	id := provision.DeliveryID(k)
	cl := s.signIn(t, "admin", adminPassword)
	code, body := cl.get("/console/outbox")
	if code != http.StatusOK {
		t.Fatalf("outbox: %d\n%s", code, body)
	}
	checkLabels(t, "/console/outbox", body)
	mustContain(t, body, `data-delivery="`+id+`" data-state="dead"`, "user.created", "<td>itsm</td>", "HTTP 503 from the ITSM app",
		`action="/console/outbox/replay"`, `action="/console/outbox/discard"`, `Dead (1)`, `id="nav-outbox"`)
	for _, st := range []string{"pending", "done", "discarded"} {
		if code, body := cl.get("/console/outbox?state=" + st); code != http.StatusOK || strings.Contains(body, `data-delivery="`+id+`"`) {
			t.Fatalf("state %s: %d, lists the dead delivery: %v", st, code, strings.Contains(body, id))
		}
	}
	if code, _ := cl.get("/console/outbox?state=lost"); code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown state: %d", code)
	}

	code, body = cl.post("/console/users", "/console/outbox/replay", url.Values{"id": {id}, "state": {"dead"}})
	if code != http.StatusOK || !strings.Contains(body, "The delivery is pending again.") {
		t.Fatalf("replay: %d\n%s", code, body)
	}
	d, err := s.db.GetDelivery(ctx, k)
	if err != nil || d.State != store.DeliveryPending || d.Attempts != 0 {
		t.Fatalf("after replay: %+v %v", d, err)
	}
	if _, body := cl.get("/console/outbox?state=pending"); !strings.Contains(body, `data-delivery="`+id+`" data-state="pending"`) {
		t.Fatalf("the replayed delivery is not listed as pending:\n%s", body)
	}
	audit, err := s.db.ListAudit(ctx, store.AuditQuery{Action: "outbox.replay", Limit: 10})
	if err != nil || len(audit.Items) != 1 || audit.Items[0].TargetID != id || audit.Items[0].ActorName != "admin" {
		t.Fatalf("audit of the replay: %+v %v", audit.Items, err)
	}
	code, body = cl.post("/console/users", "/console/outbox/replay", url.Values{"id": {id}, "state": {"dead"}})
	if code != http.StatusConflict || !strings.Contains(body, "no longer in that state") {
		t.Fatalf("second replay: %d\n%s", code, body)
	}
	if code, _ := cl.post("/console/users", "/console/outbox/replay", url.Values{"id": {"nonsense"}}); code != http.StatusNotFound {
		t.Fatalf("replay of nonsense: %d", code)
	}

	k2 := s.deadDelivery(t, "olga")
	if code, _ := cl.post("/console/users", "/console/outbox/discard", url.Values{"id": {provision.DeliveryID(k2)}, "state": {"dead"}}); code != http.StatusOK {
		t.Fatalf("discard: %d", code)
	}
	if d, err := s.db.GetDelivery(ctx, k2); err != nil || d.State != store.DeliveryDiscarded {
		t.Fatalf("after discard: %+v %v", d, err)
	}

	// A reader (user.read, no client.write) gets 404 and no entry.
	s.user(t, "viewer", directory.RoleNameUserViewer)
	rd := s.signIn(t, "viewer", "viewer password 1")
	if code, body := rd.get("/console/users"); code != http.StatusOK || strings.Contains(body, "/console/outbox") {
		t.Fatalf("reader's users page: %d, outbox entry shown: %v", code, strings.Contains(body, "/console/outbox"))
	}
	if code, _ := rd.get("/console/outbox?state=dead"); code != http.StatusNotFound {
		t.Fatalf("reader GET outbox: %d, want 404", code)
	}
	k3 := s.deadDelivery(t, "oscar")
	if code, _ := rd.post("/console/users", "/console/outbox/replay", url.Values{"id": {provision.DeliveryID(k3)}, "state": {"dead"}}); code != http.StatusNotFound {
		t.Fatalf("reader replay: %d, want 404", code)
	}
	if d, _ := s.db.GetDelivery(ctx, k3); d.State != store.DeliveryDead {
		t.Fatalf("a reader's replay changed the delivery: %s", d.State)
	}
}
