// Package softkey is a software WebAuthn authenticator for tests: it
// answers the JSON options a relying party sends (navigator.credentials
// create and get) the way a browser and a platform authenticator would,
// with resident ES256 credentials, "none" attestation and a signature
// counter. It plays the stranger's side of a passkey ceremony, so tests can
// forge what a browser never would (another origin, a replayed answer, a
// counter that goes backwards). Browser tests use Chromium's own virtual
// authenticator instead.
package softkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Authenticator holds resident credentials. Origin is what the client
// data names as the calling origin; change it to act as another site.
type Authenticator struct {
	Origin string
	// BackupEligible marks new credentials as synced passkeys (BE, BS).
	BackupEligible bool
	creds          []*Credential
}

// Credential is one resident credential.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Key        *ecdsa.PrivateKey
	// Count is the signature counter; each assertion increments it first.
	Count uint32
}

// New returns an authenticator for pages of origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Credentials lists the resident credentials, oldest first.
func (a *Authenticator) Credentials() []*Credential { return a.creds }

var b64 = base64.RawURLEncoding

type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	} `json:"publicKey"`
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) flags(extra byte) byte {
	f := byte(0x01|0x04) | extra // UP, UV
	if a.BackupEligible {
		f |= 0x08 | 0x10
	}
	return f
}

// Create makes a new resident credential for the options (JSON of a
// CredentialCreation) and returns the PublicKeyCredential as JSON.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &Credential{ID: make([]byte, 16), RPID: o.PublicKey.RP.ID, UserHandle: handle, Key: key}
	_, _ = rand.Read(c.ID)
	a.creds = append(a.creds, c)

	rpHash := sha256.Sum256([]byte(c.RPID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(0x40)) // AT: attested credential data follows
	auth = binary.BigEndian.AppendUint32(auth, c.Count)
	auth = append(auth, make([]byte, 16)...) // AAGUID: zero
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, coseKey(&key.PublicKey)...)

	att := []byte{0xa3}
	att = append(att, cborText("fmt")...)
	att = append(att, cborText("none")...)
	att = append(att, cborText("attStmt")...)
	att = append(att, 0xa0)
	att = append(att, cborText("authData")...)
	att = append(att, cborBytes(auth)...)

	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{"credProps": map[string]bool{"rk": true}},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
}

// Get answers the options (JSON of a CredentialAssertion) with the newest
// credential of their RP ID.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	for i := len(a.creds) - 1; i >= 0; i-- {
		if a.creds[i].RPID == o.PublicKey.RPID {
			return a.Assert(a.creds[i], o.PublicKey.Challenge)
		}
	}
	return nil, errors.New("softkey: no credential for " + o.PublicKey.RPID)
}

// Assert signs challenge (base64url) with c, incrementing its counter.
func (a *Authenticator) Assert(c *Credential, challenge string) ([]byte, error) {
	c.Count++
	rpHash := sha256.Sum256([]byte(c.RPID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(0))
	auth = binary.BigEndian.AppendUint32(auth, c.Count)
	cd := a.clientData("webauthn.get", challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
	})
}

// coseKey is the EC2 P-256 public key as a COSE_Key (RFC 9053): kty 2,
// alg -7 (ES256), crv 1, x, y.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.Bytes() // 0x04 || x || y
	x, y := raw[1:33], raw[33:65]
	out := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21}
	out = append(out, cborBytes(x)...)
	out = append(out, 0x22)
	return append(out, cborBytes(y)...)
}

func cborText(s string) []byte { return append(cborHead(0x60, len(s)), s...) }

func cborBytes(b []byte) []byte { return append(cborHead(0x40, len(b)), b...) }

func cborHead(major byte, n int) []byte {
	switch {
	case n < 24:
		return []byte{major | byte(n)}
	case n < 256:
		return []byte{major | 24, byte(n)}
	default:
		return []byte{major | 25, byte(n >> 8), byte(n)}
	}
}
