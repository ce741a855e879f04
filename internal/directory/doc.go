// Package directory holds the pure domain of opsiam: users, groups, roles,
// customers and the rules of SPEC §1 and §8 over them (validation, reserved
// entries, role containment and effective roles, the "why" paths of R6,
// customer separation and access decisions (C3–C5, G6), skills (G7),
// billing).
//
// Everything here takes and returns values. It performs no I/O, holds no SQL
// and imports only the standard library, so every rule is tested with tables.
// Loading and storing is the job of internal/store; combining a rule with a
// write is the job of internal/manage.
package directory
