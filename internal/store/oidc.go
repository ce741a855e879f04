package store

import (
	"context"
	"time"
)

// OIDCClient is a relying party registered with the OpenID Connect
// provider (S1, SPEC §7 /api/v1/clients). The secret is kept only as a hash.
type OIDCClient struct {
	ID                     string // the client_id
	Name                   string
	SecretHash             string // hex SHA-256 of the secret; empty for a public client
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
	Public                 bool     // no secret; PKCE S256 required
	GrantTypes             []string // authorization_code, refresh_token, client_credentials
	ITSM                   bool     // the ITSM app: gets itsm_role, refuses non-agents (T1, T2)
	AccessRoles            []string // access rule: names of roles of which a user must hold one; empty: everyone
	Claims                 []string // which of groups, roles, customer the client receives
	// AccessAPI: a service client (client_credentials) that may call
	// /api/v1/access/* with its own access token (C5, SPEC §9).
	AccessAPI bool
	// ResourceServer: may introspect tokens issued to other clients.
	ResourceServer bool
	// IDTokenAlg is id_token_signed_response_alg: RS256, ES256 or EdDSA;
	// empty: the server's default (--default-signing-alg).
	IDTokenAlg string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// OIDCClients keeps the registered relying parties.
type OIDCClients interface {
	// CreateOIDCClient stores c; a taken client_id is a ConflictError on "client_id".
	CreateOIDCClient(ctx context.Context, c OIDCClient) (OIDCClient, error)
	GetOIDCClient(ctx context.Context, id string) (OIDCClient, error)
	// ListOIDCClients returns every client ordered by client_id.
	ListOIDCClients(ctx context.Context) ([]OIDCClient, error)
	// UpdateOIDCClient writes every field of c but ID and CreatedAt
	// (secret hash included) and returns it; ErrNotFound for an unknown client.
	UpdateOIDCClient(ctx context.Context, c OIDCClient) (OIDCClient, error)
	// DeleteOIDCClient removes the client with its pending requests, tokens and sign-ins.
	DeleteOIDCClient(ctx context.Context, id string) error
}

// OIDCAuthRequest is an authorization request between the authorization
// endpoint and the token endpoint (OIDC Core §3.1.2). The provider keeps
// it in the database so that any replica can continue it.
type OIDCAuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scopes              []string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              int64 // seconds; -1 when not given
	UserID              string
	SessionID           string // the sid of the browser session that signed in
	AuthTime            time.Time
	// AMR are the methods the session signed in with (RFC 8176).
	AMR []string
	// SessionEnd is the absolute end of the platform session that signed
	// in; refresh tokens bound to the session expire by then.
	SessionEnd time.Time
	// SessionRefresh: the client may refresh without offline_access; its
	// refresh token is bound to the platform session.
	SessionRefresh bool
	Done           bool
	CodeHash       string    // hex SHA-256 of the code once issued
	UsedAt         time.Time // when the code was exchanged; zero until then
	ExpiresAt      time.Time
}

// OIDCToken is an issued access token (ID = the token's jti) or refresh
// token (ID = hex SHA-256 of the token). Tokens of one refresh family share
// FamilyID, so that a reused refresh token revokes all of them.
type OIDCToken struct {
	ID        string
	FamilyID  string
	ClientID  string
	UserID    string // empty for client credentials
	SessionID string
	Scopes    []string
	Audience  []string
	AMR       []string
	AuthTime  time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // refresh tokens: when it was exchanged (rotation)
	CreatedAt time.Time
}

// OIDCGrants keeps authorization requests, codes and tokens.
type OIDCGrants interface {
	// SaveAuthRequest inserts or replaces the request with r.ID.
	SaveAuthRequest(ctx context.Context, r OIDCAuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (OIDCAuthRequest, error)
	GetAuthRequestByCode(ctx context.Context, codeHash string) (OIDCAuthRequest, error)
	DeleteAuthRequest(ctx context.Context, id string) error
	// UseAuthRequest marks the request's code exchanged, once: ErrStale if
	// it was already, ErrNotFound for an unknown request. GetAuthRequest no
	// longer returns it; GetAuthRequestByCode does, with UsedAt set.
	UseAuthRequest(ctx context.Context, id string, at time.Time) error

	CreateAccessToken(ctx context.Context, t OIDCToken) error
	GetAccessToken(ctx context.Context, id string) (OIDCToken, error)
	DeleteAccessToken(ctx context.Context, id string) error

	CreateRefreshToken(ctx context.Context, t OIDCToken) error
	GetRefreshToken(ctx context.Context, id string) (OIDCToken, error)
	// UseRefreshToken marks an unused refresh token as used at at, in one
	// atomic statement; ErrStale if it was already used (a reuse or a race).
	UseRefreshToken(ctx context.Context, id string, at time.Time) error
	// RevokeFamily deletes every access and refresh token of a family.
	RevokeFamily(ctx context.Context, familyID string) error
	// RevokeUserClientTokens deletes every token of a user at a client.
	RevokeUserClientTokens(ctx context.Context, userID, clientID string) error
	// RevokeSessionClientTokens deletes the tokens a client got through one
	// browser session (sessionID is the sid); tokens of other sessions stay.
	RevokeSessionClientTokens(ctx context.Context, sessionID, clientID string) error
	// RevokeUserSessionTokens deletes every token of userID issued through
	// browser session sessionID, at every client.
	RevokeUserSessionTokens(ctx context.Context, userID, sessionID string) error
	// PurgeOIDC deletes auth requests and tokens that expired before t,
	// and sign-ins recorded before signInsBefore (their sessions are over).
	PurgeOIDC(ctx context.Context, t, signInsBefore time.Time) error
}

// SigningKey is a key the provider signs tokens with. The private key is
// stored encrypted (AES-GCM under the key-encryption key). Generation orders
// keys; its uniqueness stops two replicas from rotating at the same time.
type SigningKey struct {
	ID           string // the kid
	Generation   int64
	Algorithm    string // e.g. RS256
	PrivateEnc   []byte // encrypted PKCS#8 private key
	CreatedAt    time.Time
	RetiredAt    time.Time // zero: the current signing key
	PublishUntil time.Time // zero while current; after retirement: when it leaves JWKS
}

// SigningKeys keeps the provider's signing keys.
type SigningKeys interface {
	// CreateSigningKey stores k; a taken generation is a ConflictError.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every key, newest generation first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey sets when k was retired and until when it is published.
	RetireSigningKey(ctx context.Context, id string, retiredAt, publishUntil time.Time) error
	DeleteSigningKey(ctx context.Context, id string) error
}

// OIDCSignIn records that the browser session SessionID signed UserID in
// to ClientID, so that logout reaches every such client (A5).
type OIDCSignIn struct {
	SessionID string
	ClientID  string
	UserID    string
	CreatedAt time.Time
}

// OIDCSessions keeps which clients each browser session signed in to.
type OIDCSessions interface {
	// RecordOIDCSignIn is idempotent per (session, client).
	RecordOIDCSignIn(ctx context.Context, s OIDCSignIn) error
	ListOIDCSignIns(ctx context.Context, sessionID string) ([]OIDCSignIn, error)
	// EndOIDCSignIns forgets a session's sign-ins and returns them.
	EndOIDCSignIns(ctx context.Context, sessionID string) ([]OIDCSignIn, error)
	// EndUserOIDCSignIns forgets every sign-in of a user and returns them.
	EndUserOIDCSignIns(ctx context.Context, userID string) ([]OIDCSignIn, error)
}
