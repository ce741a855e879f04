package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"opsiam/internal/auth"
	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// InstallCatalog installs or upgrades the predefined roles of SPEC §8 (R2):
// missing roles are created, descriptions brought up to date, and the
// contents of Pre-Installed roles set to exactly what the catalogue says.
// Running it again changes nothing. It reports whether anything changed.
func InstallCatalog(ctx context.Context, tx store.Tx) (changed bool, err error) {
	catalog := directory.Catalog()
	ids := make(map[string]directory.RoleID, len(catalog))
	for _, cr := range catalog {
		r, err := tx.GetRoleByName(ctx, cr.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			r, err = tx.CreateRole(ctx, directory.Role{Name: cr.Name, Type: cr.Type, Description: cr.Description})
			if err != nil {
				return changed, fmt.Errorf("install role %q: %w", cr.Name, err)
			}
			changed = true
		case err != nil:
			return changed, err
		case r.Type != cr.Type:
			return changed, fmt.Errorf("install role %q: a %s role of that name exists; rename or delete it first", cr.Name, r.Type)
		case r.Description != cr.Description:
			r.Description = cr.Description
			if r, err = tx.UpdateRole(ctx, r); err != nil {
				return changed, err
			}
			changed = true
		}
		ids[cr.Name] = r.ID
	}
	_, edges, _, err := tx.RoleGraph(ctx)
	if err != nil {
		return changed, err
	}
	for _, cr := range catalog {
		parent := ids[cr.Name]
		var want []directory.RoleID
		for _, name := range cr.Contains {
			want = append(want, ids[name])
		}
		for _, e := range edges {
			if e.Parent == parent && !slices.Contains(want, e.Child) {
				if err := tx.RemoveContainment(ctx, parent, e.Child); err != nil {
					return changed, err
				}
				changed = true
			}
		}
		for _, child := range want {
			if !slices.Contains(edges, directory.Containment{Parent: parent, Child: child}) {
				if err := tx.AddContainment(ctx, parent, child); err != nil {
					return changed, err
				}
				changed = true
			}
		}
	}
	return changed, nil
}

// BootstrapResult tells what Bootstrap did.
type BootstrapResult struct {
	AdminCreated bool
	// AdminPassword is the generated password of a newly created admin, to
	// be shown once; empty when the password came from the configuration.
	AdminPassword string
}

// Bootstrap makes a fresh database usable, in one transaction: it installs
// the role catalogue, creates the reserved group global (G4) and the
// reserved user admin (U10) holding System Security Administrator (§8), a
// member of global (U4). adminPassword is used for a new admin; when empty a
// random one is generated and returned. An existing admin is left as it is.
func Bootstrap(ctx context.Context, st store.Store, hasher auth.Hasher, adminPassword string) (BootstrapResult, error) {
	var res BootstrapResult
	err := st.InTx(ctx, func(tx store.Tx) error {
		res = BootstrapResult{}
		if _, err := InstallCatalog(ctx, tx); err != nil {
			return err
		}
		global, err := tx.GetGroupByName(ctx, directory.GlobalGroupName)
		if errors.Is(err, store.ErrNotFound) {
			global, err = tx.CreateGroup(ctx, directory.Group{Name: directory.GlobalGroupName,
				Description: "Every user of the platform (reserved)."})
		}
		if err != nil {
			return fmt.Errorf("group global: %w", err)
		}
		_, err = tx.GetUserByUsername(ctx, directory.Scope{}, directory.AdminUsername)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return createAdmin(ctx, tx, hasher, global, adminPassword, &res)
	})
	return res, err
}

func createAdmin(ctx context.Context, tx store.Tx, hasher auth.Hasher, global directory.Group, pw string, res *BootstrapResult) error {
	if pw == "" {
		var err error
		if pw, err = auth.RandomPassword(20); err != nil {
			return err
		}
		res.AdminPassword = pw
	} else if errs := directory.ValidatePassword(pw, directory.AdminUsername, ""); len(errs) > 0 {
		return fmt.Errorf("OPSIAM_ADMIN_PASSWORD: %w", errs)
	}
	admin, err := tx.CreateUser(ctx, directory.User{
		Username:      directory.AdminUsername,
		Email:         "admin@localhost",
		FirstName:     "System",
		LastName:      "Administrator",
		Enabled:       true,
		EmailVerified: true,
		Timezone:      "UTC",
	})
	if err != nil {
		return fmt.Errorf("user admin: %w", err)
	}
	role, err := tx.GetRoleByName(ctx, directory.RoleNameSystemSecurityAdmin)
	if err != nil {
		return err
	}
	if err := tx.AssignUserRole(ctx, admin.ID, role.ID); err != nil {
		return err
	}
	if err := tx.AddMember(ctx, global.ID, admin.ID); err != nil {
		return err
	}
	hash, err := hasher.Hash(pw)
	if err != nil {
		return err
	}
	res.AdminCreated = true
	return tx.SetPasswordHash(ctx, admin.ID, hash)
}
