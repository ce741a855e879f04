package oidc

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// ClientsAPI serves /api/v1/clients (SPEC §7): list, create (the answer
// carries client_secret once), read, replace (PUT), delete, and
// POST /api/v1/clients/{id}/secret for a new secret. Authenticate decides who
// calls; the REST API wires it to its token check and the client.write
// permission (§8). Errors are RFC 9457 problem documents.
type ClientsAPI struct {
	Service *ClientService
	// Authenticate returns the caller, or ok=false for a missing or bad
	// credential (401) ; a caller without permission gets err (403).
	Authenticate func(r *http.Request) (actor Actor, ok bool, err error)
	Log          *slog.Logger
}

// Mount registers the routes.
func (a *ClientsAPI) Mount(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/clients", a.handle(a.list))
	mux.Handle("POST /api/v1/clients", a.handle(a.create))
	mux.Handle("GET /api/v1/clients/{id}", a.handle(a.get))
	mux.Handle("PUT /api/v1/clients/{id}", a.handle(a.update))
	mux.Handle("DELETE /api/v1/clients/{id}", a.handle(a.delete))
	mux.Handle("POST /api/v1/clients/{id}/secret", a.handle(a.rotate))
}

// ErrForbidden is what Authenticate returns for a caller without the permission.
var ErrForbidden = errors.New("forbidden")

type apiHandler func(w http.ResponseWriter, r *http.Request, actor Actor) error

func (a *ClientsAPI) handle(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, ok, err := a.Authenticate(r)
		if err == nil && !ok {
			writeProblem(w, http.StatusUnauthorized, "unauthorized", "A valid token is required.", nil)
			return
		}
		if err == nil {
			err = h(w, r, actor)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

func (a *ClientsAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe directory.FieldErrors
	var ce *store.ConflictError
	switch {
	case errors.As(err, &fe):
		writeProblem(w, http.StatusUnprocessableEntity, "invalid input", fe.Error(), fe)
	case errors.As(err, &ce):
		writeProblem(w, http.StatusConflict, "conflict", "Client ID already taken.",
			directory.FieldErrors{{Field: "client_id", Code: "taken", Message: "Client ID already taken."}})
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "not found", "No such client.", nil)
	case errors.Is(err, ErrForbidden):
		writeProblem(w, http.StatusForbidden, "forbidden", "Managing clients needs the user_admin role.", nil)
	default:
		if a.Log != nil {
			a.Log.Error("clients api", "err", err, "path", r.URL.Path)
		}
		writeProblem(w, http.StatusInternalServerError, "internal error", "", nil)
	}
}

func (a *ClientsAPI) list(w http.ResponseWriter, r *http.Request, _ Actor) error {
	cs, err := a.Service.List(r.Context())
	if err != nil {
		return err
	}
	items := make([]ClientView, len(cs))
	for i, c := range cs {
		items[i] = NewClientView(c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// createdClient is a client with its secret, shown only in the create answer.
type createdClient struct {
	ClientView
	ClientSecret string `json:"client_secret,omitempty"`
}

// decodeClient reads a client object, refusing unknown fields.
func decodeClient(w http.ResponseWriter, r *http.Request) (ClientInput, error) {
	var in ClientInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, directory.FieldErrors{{Field: "body", Code: directory.CodeInvalid, Message: "The body is not a valid client object: " + err.Error()}}
	}
	return in, nil
}

func (a *ClientsAPI) create(w http.ResponseWriter, r *http.Request, actor Actor) error {
	in, err := decodeClient(w, r)
	if err != nil {
		return err
	}
	c, secret, err := a.Service.Create(r.Context(), actor, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdClient{ClientView: NewClientView(c), ClientSecret: secret})
}

func (a *ClientsAPI) get(w http.ResponseWriter, r *http.Request, _ Actor) error {
	c, err := a.Service.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, NewClientView(c))
}

func (a *ClientsAPI) update(w http.ResponseWriter, r *http.Request, actor Actor) error {
	in, err := decodeClient(w, r)
	if err != nil {
		return err
	}
	c, secret, err := a.Service.Update(r.Context(), actor, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, createdClient{ClientView: NewClientView(c), ClientSecret: secret})
}

// rotate answers {"client_secret": …}, the new secret, shown once.
func (a *ClientsAPI) rotate(w http.ResponseWriter, r *http.Request, actor Actor) error {
	secret, err := a.Service.RotateSecret(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"client_secret": secret})
}

func (a *ClientsAPI) delete(w http.ResponseWriter, r *http.Request, actor Actor) error {
	if err := a.Service.Delete(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// writeProblem writes an RFC 9457 problem document; field errors go in
// errors as {field, code, message} (SPEC §7).
func writeProblem(w http.ResponseWriter, status int, title, detail string, fe directory.FieldErrors) {
	type fieldError struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	body := struct {
		Type   string       `json:"type"`
		Title  string       `json:"title"`
		Status int          `json:"status"`
		Detail string       `json:"detail,omitempty"`
		Errors []fieldError `json:"errors,omitempty"`
	}{Type: "about:blank", Title: title, Status: status, Detail: detail}
	for _, e := range fe {
		body.Errors = append(body.Errors, fieldError(e))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
