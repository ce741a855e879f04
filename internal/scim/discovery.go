package scim

import (
	"net/http"
	"strings"

	"opsiam/internal/manage"
)

// The discovery documents (RFC 7644 §4, RFC 7643 §5–7) describe exactly
// what this server does: the attributes below are the ones it reads and
// writes; any other attribute a client sends is ignored.

func (s *Server) serviceProviderConfig(w http.ResponseWriter, _ *http.Request, _ manage.Caller) error {
	writeJSON(w, http.StatusOK, object{
		"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":          object{"supported": true},
		"bulk":           object{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         object{"supported": true, "maxResults": maxCount},
		"changePassword": object{"supported": false},
		"sort":           object{"supported": true},
		"etag":           object{"supported": true},
		"authenticationSchemes": []object{{"type": "oauthbearertoken", "name": "Platform token",
			"description": "A platform token of a user who may write users (opsiam token issue USER), as Authorization: Bearer TOKEN.",
			"primary":     true}},
		"meta": object{"resourceType": "ServiceProviderConfig", "location": s.BaseURL + Prefix + "/ServiceProviderConfig"},
	})
	return nil
}

func (s *Server) resourceTypeDocs() []object {
	return []object{
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "User", "name": "User",
			"endpoint": "/Users", "description": "A user of the directory", "schema": SchemaUser,
			"schemaExtensions": []object{{"schema": SchemaEnterprise, "required": false}, {"schema": SchemaCustomer, "required": false}},
			"meta":             object{"resourceType": "ResourceType", "location": s.BaseURL + Prefix + "/ResourceTypes/User"}},
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "Group", "name": "Group",
			"endpoint": "/Groups", "description": "A group of users", "schema": SchemaGroup,
			"meta": object{"resourceType": "ResourceType", "location": s.BaseURL + Prefix + "/ResourceTypes/Group"}},
	}
}

func (s *Server) resourceTypes(w http.ResponseWriter, _ *http.Request, _ manage.Caller) error {
	docs := s.resourceTypeDocs()
	writeJSON(w, http.StatusOK, listResponse(docs, len(docs), 1))
	return nil
}

func (s *Server) resourceType(w http.ResponseWriter, r *http.Request, _ manage.Caller) error {
	return writeDoc(w, s.resourceTypeDocs(), r.PathValue("name"), "No such resource type; the server has User and Group.")
}

// writeDoc answers the document of docs whose id is id (ignoring case).
func writeDoc(w http.ResponseWriter, docs []object, id, missing string) error {
	for _, d := range docs {
		if strings.EqualFold(d["id"].(string), id) {
			writeJSON(w, http.StatusOK, d)
			return nil
		}
	}
	return &scimError{status: http.StatusNotFound, detail: missing}
}

// attribute describes one attribute (RFC 7643 §7).
func attribute(name, typ string, opts ...string) object {
	a := object{"name": name, "type": typ, "multiValued": false, "required": false, "caseExact": false,
		"mutability": "readWrite", "returned": "default", "uniqueness": "none"}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch v {
		case "true":
			a[k] = true
		case "false":
			a[k] = false
		default:
			a[k] = v
		}
	}
	return a
}

func complexAttr(name string, multi bool, subs ...object) object {
	a := attribute(name, "complex")
	a["multiValued"], a["subAttributes"] = multi, subs
	return a
}

func (s *Server) schemaDocs() []object {
	doc := func(id, name, desc string, attrs ...object) object {
		return object{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": id, "name": name,
			"description": desc, "attributes": attrs,
			"meta": object{"resourceType": "Schema", "location": s.BaseURL + Prefix + "/Schemas/" + id}}
	}
	typed := func(types ...string) object {
		a := attribute("type", "string", "canonicalValues=")
		a["canonicalValues"] = types
		return a
	}
	return []object{
		doc(SchemaUser, "User", "User Account",
			attribute("userName", "string", "required=true", "uniqueness=server", "mutability=immutable"),
			attribute("externalId", "string", "caseExact=true"),
			complexAttr("name", false, attribute("givenName", "string", "required=true"),
				attribute("familyName", "string", "required=true"), attribute("formatted", "string", "mutability=readOnly")),
			attribute("displayName", "string", "mutability=readOnly"),
			attribute("active", "boolean"),
			attribute("timezone", "string"),
			complexAttr("emails", true, attribute("value", "string", "required=true", "uniqueness=server"),
				typed("work"), attribute("primary", "boolean")),
			complexAttr("phoneNumbers", true, attribute("value", "string"), typed("work", "mobile")),
			complexAttr("addresses", true, attribute("formatted", "string"), typed("work")),
			complexAttr("groups", true, attribute("value", "string", "mutability=readOnly"),
				attribute("display", "string", "mutability=readOnly"), attribute("$ref", "reference", "mutability=readOnly")),
		),
		doc(SchemaEnterprise, "EnterpriseUser", "Enterprise User",
			attribute("organization", "string"), attribute("department", "string")),
		doc(SchemaCustomer, "CustomerUser", "The customer a user belongs to (opsiam)",
			attribute("customerCode", "string", "caseExact=true")),
		doc(SchemaGroup, "Group", "Group",
			attribute("displayName", "string", "required=true", "uniqueness=server"),
			attribute("externalId", "string", "caseExact=true"),
			complexAttr("members", true, attribute("value", "string", "mutability=immutable"),
				attribute("display", "string", "mutability=readOnly"), attribute("$ref", "reference", "mutability=immutable"),
				typed("User"))),
	}
}

func (s *Server) schemas(w http.ResponseWriter, _ *http.Request, _ manage.Caller) error {
	docs := s.schemaDocs()
	writeJSON(w, http.StatusOK, listResponse(docs, len(docs), 1))
	return nil
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request, _ manage.Caller) error {
	return writeDoc(w, s.schemaDocs(), r.PathValue("id"), "No such schema.")
}

// listResponse wraps one page of resources (RFC 7644 §3.4.2).
func listResponse(items []object, total, start int) object {
	if items == nil {
		items = []object{}
	}
	return object{"schemas": []string{schemaList}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(items), "Resources": items}
}
