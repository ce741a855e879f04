package gitlab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"opsiam/internal/provision"
	"opsiam/internal/provision/gitlab"
	"opsiam/internal/provision/gitlab/gitlabfake"
	"opsiam/internal/store"
	"opsiam/internal/store/sqlstore"
	"opsiam/internal/store/sqlstore/sqltest"
)

const token = "glpat-test-token"

func setup(t *testing.T) (*gitlabfake.Fake, *gitlab.Target) {
	t.Helper()
	fake := gitlabfake.New(token)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	target, err := gitlab.New(gitlab.Config{URL: srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return fake, target
}

var seq int64

func event(topic string, p map[string]string) store.Event {
	b, _ := json.Marshal(p)
	seq++
	return store.Event{Seq: seq, ID: fmt.Sprintf("ev%d", seq), Topic: topic, Aggregate: "group:" + p["group_id"], Payload: b}
}

func created(name string) store.Event {
	return event(provision.TopicGroupCreated, map[string]string{"group_id": "g-" + name, "name": name})
}

func added(group, user string) store.Event {
	return event(provision.TopicMemberAdded, map[string]string{"group_id": "g-" + group, "group_name": group, "user_id": "u-" + user, "username": user})
}

func removed(group, user string) store.Event {
	return event(provision.TopicMemberRemoved, map[string]string{"group_id": "g-" + group, "group_name": group, "user_id": "u-" + user, "username": user})
}

func deleted(name string) store.Event {
	return event(provision.TopicGroupDeleted, map[string]string{"group_id": "g-" + name, "name": name})
}

func deliver(t *testing.T, target *gitlab.Target, events ...store.Event) {
	t.Helper()
	for _, e := range events {
		if err := target.Deliver(context.Background(), e); err != nil {
			t.Fatalf("deliver %s: %v", e.Topic, err)
		}
	}
}

func changes(f *gitlabfake.Fake) string {
	var out []string
	for _, c := range f.Changes() {
		out = append(out, c.String())
	}
	return strings.Join(out, "; ")
}

func TestGroupsAndMembersIdempotent(t *testing.T) {
	fake, target := setup(t)
	fake.AddUser("alice")
	fake.AddUser("bob")
	deliver(t, target, created("Ops Team"), created("Ops Team"), // an existing group is success
		added("Ops Team", "alice"), added("Ops Team", "alice"), // 409 Member already exists is success
		added("Ops Team", "bob"),
		removed("Ops Team", "bob"), removed("Ops Team", "bob"), // 404 on removal is success
		added("Ops Team", "carol"), // no GitLab account: skipped
		added("global", "alice"),   // global is not mirrored
	)
	want := "group_created ops-team ; member_added ops-team alice; member_added ops-team bob; member_removed ops-team bob"
	if got := changes(fake); got != want {
		t.Fatalf("changes:\n got %s\nwant %s", got, want)
	}
	if m := fake.Members("ops-team"); m["alice"] != 30 || len(m) != 1 {
		t.Fatalf("members: %v (want alice as Developer)", m)
	}
	deliver(t, target, deleted("Ops Team"), deleted("Ops Team"), removed("Ops Team", "alice"))
	if names := fake.GroupNames(); len(names) != 0 {
		t.Fatalf("groups left: %v", names)
	}
}

func TestMemberOfAGroupMissingInGitLab(t *testing.T) {
	fake, target := setup(t)
	fake.AddUser("alice")
	deliver(t, target, added("Made Before GitLab", "alice"))
	if got := changes(fake); got != "group_created made-before-gitlab ; member_added made-before-gitlab alice" {
		t.Fatalf("changes: %s", got)
	}
	if names := fake.GroupNames(); len(names) != 1 || names[0] != "Made Before GitLab" {
		t.Fatalf("groups: %v", names)
	}
}

func TestPathClashIsPermanent(t *testing.T) {
	fake, target := setup(t)
	deliver(t, target, created("ops team"))
	err := target.Deliver(context.Background(), created("Ops-Team"))
	if !errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("a second group on the same path: %v, want a permanent error", err)
	}
	if len(fake.GroupNames()) != 1 {
		t.Fatal(fake)
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	fake, target := setup(t)
	fake.FailNext(1)
	err := target.Deliver(context.Background(), created("ops"))
	if err == nil || errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("500: %v, want a retryable error", err)
	}
	deliver(t, target, created("ops"))
}

func TestBadTokenAndBadPayload(t *testing.T) {
	fake := gitlabfake.New(token)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	target, err := gitlab.New(gitlab.Config{URL: srv.URL, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if err := target.Deliver(context.Background(), created("ops")); err == nil || errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("401: %v, want a retryable error (the token can be fixed)", err)
	}
	bad := store.Event{Topic: provision.TopicGroupCreated, Payload: json.RawMessage(`[1]`)}
	if err := target.Deliver(context.Background(), bad); !errors.Is(err, provision.ErrPermanent) {
		t.Fatalf("bad payload: %v", err)
	}
	for _, cfg := range []gitlab.Config{{Token: "x"}, {URL: "http://x"}, {URL: "http://x", Token: "x", AccessLevel: 31}} {
		if _, err := gitlab.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestMembersTab(t *testing.T) {
	fake, target := setup(t)
	var opsiam []string
	for i := range 120 { // more than one page of 100
		u := fmt.Sprintf("user%03d", i)
		fake.AddUser(u)
		opsiam = append(opsiam, u)
	}
	fake.AddUser("gitlab-only")
	deliver(t, target, created("dev"))
	for _, u := range opsiam {
		deliver(t, target, added("dev", u))
	}
	deliver(t, target, event(provision.TopicMemberAdded, map[string]string{"group_name": "dev", "username": "gitlab-only"}))
	fake.DeleteUser("user007")
	ms, err := target.Members(context.Background(), "dev", append(opsiam, "no-account"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 122 {
		t.Fatalf("%d rows, want 122", len(ms))
	}
	rows := map[string]gitlab.Member{}
	for _, m := range ms {
		rows[m.Username] = m
	}
	if m := rows["user007"]; m.Role != "No Access" || m.InGitLab || !m.InOpsiam {
		t.Fatalf("user deleted on GitLab: %+v", m)
	}
	if m := rows["no-account"]; m.Role != "No Access" || m.AccessLevel != 0 {
		t.Fatalf("user without an account: %+v", m)
	}
	if m := rows["user119"]; m.Role != "Developer" || m.AccessLevel != 30 || !m.InGitLab || m.Name == "" {
		t.Fatalf("member on the second page: %+v", m)
	}
	if m := rows["gitlab-only"]; m.InOpsiam || !m.InGitLab {
		t.Fatalf("member only in GitLab: %+v", m)
	}
	none, err := target.Members(context.Background(), "missing", []string{"a"})
	if err != nil || len(none) != 1 || none[0].Role != "No Access" {
		t.Fatalf("group missing on GitLab: %+v %v", none, err)
	}
}

// TestAcceptanceThroughWorker is acceptance 1 of issue 8: changes enqueued
// in the outbox reach the GitLab fake through the worker; while the fake
// fails for a while nothing is lost, and after it recovers nothing is
// doubled.
func TestAcceptanceThroughWorker(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, db *sqlstore.DB, _ string) {
		ctx := context.Background()
		fake, target := setup(t)
		users := []string{"alice", "bob", "carol", "dave"}
		for _, u := range users {
			fake.AddUser(u)
		}
		var want []string
		enq := func(e store.Event) {
			if _, err := db.Enqueue(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range []string{"ops", "dev", "sre"} {
			enq(created(g))
			want = append(want, "group_created "+g+" ")
			for _, u := range users {
				enq(added(g, u))
				want = append(want, "member_added "+g+" "+u)
			}
			enq(removed(g, "bob"))
			want = append(want, "member_removed "+g+" bob")
		}
		fake.FailNext(25) // fail for a while, then recover
		w := provision.NewWorker(db, provision.Config{Poll: 5 * time.Millisecond, BackoffBase: 5 * time.Millisecond,
			BackoffMax: 20 * time.Millisecond, MaxAttempts: 50, Batch: 4}, nil, target)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := db.CountDeliveries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c[store.DeliveryDone] == len(want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not delivered in time: %v; %s", c, changes(fake))
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Exactly the expected changes, each once, in order per group.
		got := fake.Changes()
		if len(got) != len(want) {
			t.Fatalf("%d changes, want %d:\n%s", len(got), len(want), changes(fake))
		}
		perGroup := map[string][]string{}
		for _, c := range got {
			perGroup[c.Group] = append(perGroup[c.Group], c.String())
		}
		for i, g := range []string{"ops", "dev", "sre"} {
			n := 2 + len(users)
			if fmt.Sprint(perGroup[g]) != fmt.Sprint(want[i*n:(i+1)*n]) {
				t.Errorf("group %s:\n got %v\nwant %v", g, perGroup[g], want[i*n:(i+1)*n])
			}
		}
		if fake.Requests() <= len(want) {
			t.Fatalf("the fake never failed a request (%d requests)", fake.Requests())
		}
	})
}
