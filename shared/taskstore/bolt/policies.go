package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// bucketPolicies holds name -> JSON policy. It is created on first write, so files written
// before policies existed need no migration.
var bucketPolicies = []byte("policies")

var _ merge.PolicyStore = (*Store)(nil)

// CreatePolicy stores a new policy.
func (s *Store) CreatePolicy(ctx context.Context, p *merge.Policy) error {
	if p.Name == "" {
		return merge.Errorf(merge.ErrInvalid, "policy name is required")
	}
	data, err := encodePolicy(p)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPolicies)
		if err != nil {
			return err
		}
		if b.Get([]byte(p.Name)) != nil {
			return merge.Errorf(merge.ErrConflict, "policy %s already exists", p.Name)
		}
		return b.Put([]byte(p.Name), data)
	})
}

// GetPolicy returns one policy.
func (s *Store) GetPolicy(ctx context.Context, name string) (*merge.Policy, error) {
	var p merge.Policy
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var data []byte
		if b := tx.Bucket(bucketPolicies); b != nil && name != "" {
			data = b.Get([]byte(name))
		}
		if data == nil {
			return merge.Errorf(merge.ErrNotFound, "policy %q not found", name)
		}
		return json.Unmarshal(data, &p)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ListPolicies returns every policy in name order, which is bbolt's key order.
func (s *Store) ListPolicies(ctx context.Context) ([]*merge.Policy, error) {
	out := []*merge.Policy{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPolicies)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p merge.Policy
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("bolt: decode policy %s: %w", k, err)
			}
			out = append(out, &p)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdatePolicy replaces an existing policy.
func (s *Store) UpdatePolicy(ctx context.Context, p *merge.Policy) error {
	data, err := encodePolicy(p)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPolicies)
		if b == nil || p.Name == "" || b.Get([]byte(p.Name)) == nil {
			return merge.Errorf(merge.ErrNotFound, "policy %q not found", p.Name)
		}
		return b.Put([]byte(p.Name), data)
	})
}

// DeletePolicy removes a policy.
func (s *Store) DeletePolicy(ctx context.Context, name string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPolicies)
		if b == nil || name == "" || b.Get([]byte(name)) == nil {
			return merge.Errorf(merge.ErrNotFound, "policy %q not found", name)
		}
		return b.Delete([]byte(name))
	})
}

func encodePolicy(p *merge.Policy) ([]byte, error) {
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("bolt: encode policy %s: %w", p.Name, err)
	}
	return data, nil
}
