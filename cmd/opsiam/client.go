package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"opsiam/internal/oidc"
)

const clientUsage = `usage: opsiam client COMMAND [flags]

  add       register an OpenID Connect client; prints client_id and, for a
            confidential client, client_secret (shown only this once)
              --name NAME (required)        --client-id ID (default: generated)
              --redirect-uri URI ...        --post-logout-redirect-uri URI ...
              --backchannel-logout-uri URI  --grant-type TYPE ... (default:
              authorization_code, refresh_token)   --public   --itsm
              --access-role ROLE ... (access rule: users need one of them)
              --claims LIST (groups,roles,customer by default; none)
              --access-api (a client_credentials service client that
              calls /api/v1/access/*)   --resource-server (may introspect
              other clients' tokens)   --id-token-alg RS256|ES256|EdDSA
  list      list the clients
  secret ID give a confidential client a new secret (printed once; the old
            one stops working)
  delete ID delete a client with its tokens

Repeatable flags may be given several times. The database flags of serve
(--data-dir, --database) apply.
`

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// clientCmd is `opsiam client add|list|secret|delete` (S1: clients registered
// through the CLI).
func clientCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var in oidc.ClientInput
	var redirects, postLogout, grants, access listFlag
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&in.ClientID, "client-id", "", "client_id (default: generated)")
	fs.StringVar(&in.Name, "name", "", "display name")
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.StringVar(&in.BackchannelLogoutURI, "backchannel-logout-uri", "", "back-channel logout URI")
	fs.Var(&grants, "grant-type", "grant type (repeatable)")
	fs.BoolVar(&in.Public, "public", false, "public client: no secret, PKCE S256 required")
	fs.BoolVar(&in.ITSM, "itsm", false, "the ITSM app: receives itsm_role, admits only ITSM agents")
	fs.BoolVar(&in.AccessAPI, "access-api", false, "service client (with --grant-type client_credentials): may call /api/v1/access/* with its own token")
	fs.BoolVar(&in.ResourceServer, "resource-server", false, "may introspect tokens issued to other clients")
	fs.StringVar(&in.IDTokenAlg, "id-token-alg", "", "ID token signing algorithm: RS256, ES256 or EdDSA (default: the server's --default-signing-alg)")
	claims := fs.String("claims", "groups,roles,customer", "claims the client receives: a comma list of groups, roles, customer, or none")
	fs.Var(&access, "access-role", "access rule: a role a user must hold to sign in (repeatable; any one suffices)")
	if wantsHelp(args) {
		fmt.Fprint(stdout, clientUsage)
		fmt.Fprintln(stdout, "\nflags of client add:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	common, rest := splitArgs(args)
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	e, err := open(ctx, "client", common, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer e.db.Close()
	svc := &oidc.ClientService{Store: e.db}
	actor := oidc.Actor{Name: "cli", Source: "cli"}
	if len(pos) == 0 {
		fmt.Fprint(stderr, clientUsage)
		return fmt.Errorf("client: no command given")
	}
	switch pos[0] {
	case "add":
		in.RedirectURIs, in.PostLogoutRedirectURIs, in.GrantTypes, in.AccessRoles = redirects, postLogout, grants, access
		in.Claims = []string{}
		if *claims != "none" {
			for _, c := range strings.Split(*claims, ",") {
				if c = strings.TrimSpace(c); c != "" {
					in.Claims = append(in.Claims, c)
				}
			}
		}
		c, secret, err := svc.Create(ctx, actor, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "client_id: %s\n", c.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client_secret: %s\n", secret)
		}
		return nil
	case "list":
		cs, err := svc.List(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			kind := "confidential"
			if c.Public {
				kind = "public"
			}
			if c.ITSM {
				kind += ",itsm"
			}
			if c.AccessAPI {
				kind += ",access_api"
			}
			if c.ResourceServer {
				kind += ",resource_server"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", c.ID, c.Name, kind, strings.Join(c.RedirectURIs, " "))
		}
		return nil
	case "secret":
		if len(pos) != 2 {
			return fmt.Errorf("client secret: give one client_id")
		}
		secret, err := svc.RotateSecret(ctx, actor, pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "client_secret: %s\n", secret)
		return nil
	case "delete":
		if len(pos) != 2 {
			return fmt.Errorf("client delete: give one client_id")
		}
		return svc.Delete(ctx, actor, pos[1])
	}
	fmt.Fprint(stderr, clientUsage)
	return fmt.Errorf("client: unknown command %q", pos[0])
}
