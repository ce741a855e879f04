// Package store defines how opsiam keeps its directory: small per-aggregate
// interfaces (Users, Groups, Roles, Customers, Links), their composition into
// a transaction (Tx) and a Store, query options, and the sentinel errors every
// implementation returns.
//
// It holds no SQL. The database/sql implementation lives in store/sqlstore and
// the conformance suite that every implementation must pass in store/storetest.
// Queries that list or find users take a directory.Scope, so a caller cannot
// forget the customer boundary (STYLE P13).
package store
