package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeMountsSCIM: opsiam serve answers SCIM at /scim/v2 with the
// platform tokens of the CLI, as a provisioning client would use it.
func TestServeMountsSCIM(t *testing.T) {
	t.Parallel() // its own data directory and server (issue 17, point 7)
	dir := t.TempDir()
	tok := strings.TrimSpace(runCLI(t, dir, "", "", "token", "issue", "admin"))
	base, _ := startServer(t, nil, "--data-dir", dir)
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if code, m := call("GET", "/ServiceProviderConfig", ""); code != 200 || m["patch"] == nil {
		t.Fatalf("ServiceProviderConfig: %d %v", code, m)
	}
	code, m := call("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"sam",
		"name":{"givenName":"Sam","familyName":"Lee"},"emails":[{"value":"sam@example.com","primary":true}]}`)
	if code != 201 || !strings.HasPrefix(m["meta"].(map[string]any)["location"].(string), base+"/scim/v2/Users/") {
		t.Fatalf("create: %d %v", code, m)
	}
	if code, m := call("GET", "/Users?filter="+url.QueryEscape(`userName eq "sam"`), ""); code != 200 || m["totalResults"] != 1.0 {
		t.Fatalf("filter: %d %v", code, m)
	}
	// The REST API sees the same user.
	req, _ := http.NewRequest("GET", base+"/api/v1/users?username=sam", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Items []struct{ Username string } `json:"items"`
	}
	json.NewDecoder(res.Body).Decode(&list)
	if len(list.Items) != 1 || list.Items[0].Username != "sam" {
		t.Fatalf("REST API: %+v", list)
	}
}
