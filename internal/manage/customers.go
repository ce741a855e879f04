package manage

import (
	"context"

	"opsiam/internal/directory"
	"opsiam/internal/store"
)

// CustomerPatch is a change to a customer: nil fields stay as they are.
type CustomerPatch struct {
	Code, Name, Street, Zip, City, Country, URL, Comment *string
	State                                                *directory.CustomerState
}

// CreateCustomer adds a customer (C1); the state defaults to valid.
func (s *Service) CreateCustomer(ctx context.Context, a Caller, c directory.Customer) (directory.Customer, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.Customer{}, err
	}
	directory.NormalizeCustomer(&c)
	if c.State == "" {
		c.State = directory.CustomerValid
	}
	c.ID, c.Version = "", 0
	if err := directory.ValidateCustomer(c).Err(); err != nil {
		return directory.Customer{}, err
	}
	var created directory.Customer
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if created, err = tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionCustomerCreate, "customer", string(created.ID), nil, created)
	})
	return created, err
}

// UpdateCustomer changes a customer; its code never changes (C1).
// Customers are never deleted, only made invalid.
func (s *Service) UpdateCustomer(ctx context.Context, a Caller, id directory.CustomerID, ifVersion int64, p CustomerPatch) (directory.Customer, error) {
	if err := a.may(directory.PermUserWrite); err != nil {
		return directory.Customer{}, err
	}
	var updated directory.Customer
	err := s.Store.InTx(ctx, func(tx store.Tx) error {
		old, err := tx.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion(old.Version, ifVersion); err != nil {
			return err
		}
		c := old
		for _, f := range []struct{ dst, v *string }{{&c.Code, p.Code}, {&c.Name, p.Name}, {&c.Street, p.Street},
			{&c.Zip, p.Zip}, {&c.City, p.City}, {&c.Country, p.Country}, {&c.URL, p.URL}, {&c.Comment, p.Comment}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if p.State != nil {
			c.State = *p.State
		}
		directory.NormalizeCustomer(&c)
		if err := directory.CheckCustomerUpdate(old, c); err != nil {
			return err
		}
		if err := directory.ValidateCustomer(c).Err(); err != nil {
			return err
		}
		if updated, err = tx.UpdateCustomer(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, store.ActionCustomerUpdate, "customer", string(id), old, updated)
	})
	return updated, err
}
