// Package scim is the SCIM 2.0 server of opsiam (RFC 7643, RFC 7644; SPEC
// P4 and §9) at /scim/v2: Users and Groups with filters, paging, sorting,
// attribute selection, PATCH and ETags, plus the discovery documents
// (ServiceProviderConfig, ResourceTypes, Schemas).
//
// It is an adapter: a request is translated into the manage use cases
// (CreateUser, UpdateUser, DeleteUser, CreateGroup, AddMembers, …) with the
// caller its platform token names, so the directory's rules, tombstones,
// audit and outbox apply exactly as for the REST API, and a SCIM delete is a
// delete. Resources are handled as JSON objects whose attribute names are
// matched ignoring case (RFC 7643 §2.1); filters are parsed by
// github.com/scim2/filter-parser and evaluated here against those objects.
package scim
