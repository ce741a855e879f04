package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"opsiam/internal/store"
)

func mustClient(t *testing.T, s store.Store, id string) store.OIDCClient {
	t.Helper()
	c, err := s.CreateOIDCClient(context.Background(), store.OIDCClient{
		ID: id, Name: "App " + id, SecretHash: "abc", RedirectURIs: []string{"https://app.example/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye"}, BackchannelLogoutURI: "https://app.example/bcl",
		GrantTypes: []string{"authorization_code", "refresh_token"}, ITSM: true, AccessRoles: []string{"Manager"}, Claims: []string{"roles"},
	})
	if err != nil {
		t.Fatalf("create client %s: %v", id, err)
	}
	return c
}

func testOIDCClients(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	mustClient(t, s, "b-app")
	a := mustClient(t, s, "a-app")
	got, err := s.GetOIDCClient(ctx, "a-app")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != a.Name || !slices.Equal(got.RedirectURIs, a.RedirectURIs) || !got.ITSM || got.Public ||
		got.BackchannelLogoutURI != a.BackchannelLogoutURI || !slices.Equal(got.GrantTypes, a.GrantTypes) ||
		!slices.Equal(got.PostLogoutRedirectURIs, a.PostLogoutRedirectURIs) || got.CreatedAt.IsZero() ||
		!slices.Equal(got.AccessRoles, []string{"Manager"}) || !slices.Equal(got.Claims, []string{"roles"}) {
		t.Fatalf("client not kept as written:\n got %+v\nwant %+v", got, a)
	}
	var ce *store.ConflictError
	if _, err := s.CreateOIDCClient(ctx, store.OIDCClient{ID: "a-app", Name: "again"}); !errors.As(err, &ce) || ce.Field != "client_id" {
		t.Fatalf("duplicate client_id: %v", err)
	}
	list, err := s.ListOIDCClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a-app" {
		t.Fatalf("list: %v %v", list, err)
	}
	a.Name, a.SecretHash, a.Public, a.RedirectURIs, a.Claims = "Renamed", "", true, []string{"https://new.example/cb"}, nil
	upd, err := s.UpdateOIDCClient(ctx, a)
	if err != nil || upd.Name != "Renamed" || upd.SecretHash != "" || !upd.Public || upd.RedirectURIs[0] != "https://new.example/cb" ||
		len(upd.Claims) != 0 || !upd.CreatedAt.Equal(a.CreatedAt) || upd.ITSM != a.ITSM {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if _, err := s.UpdateOIDCClient(ctx, store.OIDCClient{ID: "nope", Name: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of an unknown client: %v", err)
	}
	if err := s.DeleteOIDCClient(ctx, "a-app"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOIDCClient(ctx, "a-app"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	if err := s.DeleteOIDCClient(ctx, "a-app"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func testOIDCAuthRequests(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	mustClient(t, s, "app")
	now := time.Now().UTC().Truncate(time.Microsecond)
	r := store.OIDCAuthRequest{ID: "r1", ClientID: "app", RedirectURI: "https://app.example/cb", State: "st",
		Nonce: "n", Scopes: []string{"openid", "email"}, ResponseType: "code", CodeChallenge: "cc",
		CodeChallengeMethod: "S256", MaxAge: -1, ExpiresAt: now.Add(time.Minute)}
	if err := s.SaveAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.UserID, r.SessionID, r.AuthTime, r.Done, r.CodeHash = "u1", "sid1", now, true, "hash1"
	if err := s.SaveAuthRequest(ctx, r); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, err := s.GetAuthRequestByCode(ctx, "hash1")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "u1" || got.SessionID != "sid1" || !got.Done || !got.AuthTime.Equal(now) ||
		!slices.Equal(got.Scopes, r.Scopes) || got.CodeChallenge != "cc" || got.MaxAge != -1 || got.State != "st" {
		t.Fatalf("auth request not kept: %+v", got)
	}
	expired := store.OIDCAuthRequest{ID: "old", ClientID: "app", MaxAge: -1, ExpiresAt: now.Add(-time.Second)}
	if err := s.SaveAuthRequest(ctx, expired); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAuthRequest(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired request returned: %v", err)
	}
	if err := s.PurgeOIDC(ctx, now, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAuthRequest(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("purge left the expired request: %v", err)
	}
	if err := s.DeleteAuthRequest(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAuthRequest(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted request: %v", err)
	}
}

func testOIDCTokens(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	mustClient(t, s, "app")
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := func(id, fam string) store.OIDCToken {
		return store.OIDCToken{ID: id, FamilyID: fam, ClientID: "app", UserID: "u1", SessionID: "s1",
			Scopes: []string{"openid"}, Audience: []string{"app"}, AMR: []string{"pwd"}, AuthTime: now,
			ExpiresAt: now.Add(time.Hour)}
	}
	for _, id := range []string{"r1", "r2"} {
		if err := s.CreateRefreshToken(ctx, tok(id, "f1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateAccessToken(ctx, tok("a1", "f1")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessToken(ctx, tok("a2", "f2")); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRefreshToken(ctx, "r1")
	if err != nil || got.UserID != "u1" || !got.AuthTime.Equal(now) || !slices.Equal(got.AMR, []string{"pwd"}) || !got.UsedAt.IsZero() {
		t.Fatalf("refresh token: %+v %v", got, err)
	}
	if _, err := s.GetRefreshToken(ctx, "a1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an access token read as a refresh token: %v", err)
	}
	// Rotation: of many parallel uses exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, stale := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseRefreshToken(ctx, "r1", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrStale):
				stale++
			default:
				t.Errorf("use: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || stale != 7 {
		t.Fatalf("parallel use: %d won, %d stale; want 1 and 7", wins, stale)
	}
	if got, _ := s.GetRefreshToken(ctx, "r1"); !got.UsedAt.Equal(now) {
		t.Fatalf("used_at not kept: %v", got.UsedAt)
	}
	if err := s.UseRefreshToken(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if err := s.RevokeFamily(ctx, "f1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		if _, err := s.GetRefreshToken(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refresh %s survived the family revocation: %v", id, err)
		}
	}
	if _, err := s.GetAccessToken(ctx, "a1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("access token of the family survived: %v", err)
	}
	if _, err := s.GetAccessToken(ctx, "a2"); err != nil {
		t.Fatalf("another family's token was revoked: %v", err)
	}
	if err := s.RevokeUserClientTokens(ctx, "u1", "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessToken(ctx, "a2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user's token survived: %v", err)
	}
	exp := tok("x", "f3")
	exp.ExpiresAt = now.Add(-time.Second)
	if err := s.CreateAccessToken(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessToken(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired token returned: %v", err)
	}
}

func testSigningKeys(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, id := range []string{"k1", "k2"} {
		if err := s.CreateSigningKey(ctx, store.SigningKey{ID: id, Generation: int64(i + 1), Algorithm: "RS256",
			PrivateEnc: []byte{0, 1, 2, byte(i)}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSigningKey(ctx, store.SigningKey{ID: "k3", Generation: 2, Algorithm: "RS256", PrivateEnc: []byte{1}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second key of one generation: %v", err)
	}
	if err := s.RetireSigningKey(ctx, "k1", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListSigningKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("list: %v %v", keys, err)
	}
	if keys[0].ID != "k2" || keys[1].ID != "k1" || !keys[1].RetiredAt.Equal(now) || !keys[1].PublishUntil.Equal(now.Add(time.Hour)) ||
		!slices.Equal(keys[1].PrivateEnc, []byte{0, 1, 2, 0}) || !keys[0].RetiredAt.IsZero() {
		t.Fatalf("keys not kept: %+v", keys)
	}
	if err := s.DeleteSigningKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.ListSigningKeys(ctx); len(keys) != 1 {
		t.Fatalf("after delete: %+v", keys)
	}
}

func testOIDCSignIns(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	mustClient(t, s, "a")
	mustClient(t, s, "b")
	for _, c := range []string{"a", "b", "a"} {
		if err := s.RecordOIDCSignIn(ctx, store.OIDCSignIn{SessionID: "s1", ClientID: c, UserID: "u1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordOIDCSignIn(ctx, store.OIDCSignIn{SessionID: "s2", ClientID: "a", UserID: "u2"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListOIDCSignIns(ctx, "s1")
	if err != nil || len(list) != 2 || list[0].ClientID != "a" || list[1].ClientID != "b" || list[0].UserID != "u1" {
		t.Fatalf("sign-ins: %+v %v", list, err)
	}
	if err := s.RecordOIDCSignIn(ctx, store.OIDCSignIn{SessionID: "s3", ClientID: "b", UserID: "u3"}); err != nil {
		t.Fatal(err)
	}
	byUser, err := s.EndUserOIDCSignIns(ctx, "u3")
	if err != nil || len(byUser) != 1 || byUser[0].SessionID != "s3" {
		t.Fatalf("end by user: %+v %v", byUser, err)
	}
	if list, _ := s.ListOIDCSignIns(ctx, "s2"); len(list) != 1 {
		t.Fatalf("ending the user's other sessions took s2: %+v", list)
	}
	ended, err := s.EndOIDCSignIns(ctx, "s1")
	if err != nil || len(ended) != 2 {
		t.Fatalf("end: %+v %v", ended, err)
	}
	if list, _ := s.ListOIDCSignIns(ctx, "s1"); len(list) != 0 {
		t.Fatalf("ended session keeps sign-ins: %+v", list)
	}
	if list, _ := s.ListOIDCSignIns(ctx, "s2"); len(list) != 1 {
		t.Fatalf("another session lost its sign-ins: %+v", list)
	}
	if err := s.PurgeOIDC(ctx, time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListOIDCSignIns(ctx, "s2"); len(list) != 0 {
		t.Fatalf("purge kept an old sign-in: %+v", list)
	}
}
