package firestore

import (
	"context"
	"fmt"
	"time"

	gfs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// colPolicies holds one document per policy; the document ID is the policy's name.
const colPolicies = "policies"

var _ merge.PolicyStore = (*Store)(nil)

// policyDoc is a policy as stored.
type policyDoc struct {
	Clusters             []string    `firestore:"clusters"`
	Databases            []string    `firestore:"databases"`
	Tables               []string    `firestore:"tables"`
	Exclude              []string    `firestore:"exclude"`
	MinSmallFiles        int64       `firestore:"min_small_files"`
	MinSmallFileRatio    float64     `firestore:"min_small_file_ratio"`
	MaxHealthScore       float64     `firestore:"max_health_score"`
	Strategy             string      `firestore:"strategy"`
	TargetFileSize       int64       `firestore:"target_file_size_bytes"`
	QuietPeriodMinutes   int64       `firestore:"quiet_period_minutes"`
	Windows              []windowDoc `firestore:"windows"`
	MaxRunningPerCluster int64       `firestore:"max_running_per_cluster"`
	MaxTasksPerRun       int64       `firestore:"max_tasks_per_run"`
	Priority             string      `firestore:"priority"`
	DryRun               bool        `firestore:"dry_run"`
	Enabled              bool        `firestore:"enabled"`
	CreatedAt            time.Time   `firestore:"created_at"`
	UpdatedAt            time.Time   `firestore:"updated_at"`
	UpdatedBy            string      `firestore:"updated_by"`
}

type windowDoc struct {
	Start           string `firestore:"start"`
	DurationMinutes int64  `firestore:"duration_minutes"`
}

func toPolicyDoc(p *merge.Policy) *policyDoc {
	p.CreatedAt, p.UpdatedAt = roundTime(p.CreatedAt), roundTime(p.UpdatedAt)
	d := &policyDoc{
		Clusters: p.Clusters, Databases: p.Databases, Tables: p.Tables, Exclude: p.Exclude,
		MinSmallFiles: p.MinSmallFiles, MinSmallFileRatio: p.MinSmallFileRatio, MaxHealthScore: p.MaxHealthScore,
		Strategy: string(p.Strategy), TargetFileSize: p.TargetFileSize, QuietPeriodMinutes: int64(p.QuietPeriodMinutes),
		MaxRunningPerCluster: int64(p.MaxRunningPerCluster), MaxTasksPerRun: int64(p.MaxTasksPerRun),
		Priority: string(p.Priority), DryRun: p.DryRun, Enabled: p.Enabled,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, UpdatedBy: p.UpdatedBy,
	}
	for _, w := range p.Windows {
		d.Windows = append(d.Windows, windowDoc{Start: w.Start, DurationMinutes: int64(w.DurationMinutes)})
	}
	return d
}

func (d *policyDoc) policy(name string) *merge.Policy {
	p := &merge.Policy{
		Name: name, Clusters: d.Clusters, Databases: d.Databases, Tables: d.Tables, Exclude: d.Exclude,
		MinSmallFiles: d.MinSmallFiles, MinSmallFileRatio: d.MinSmallFileRatio, MaxHealthScore: d.MaxHealthScore,
		Strategy: merge.Strategy(d.Strategy), TargetFileSize: d.TargetFileSize, QuietPeriodMinutes: int(d.QuietPeriodMinutes),
		MaxRunningPerCluster: int(d.MaxRunningPerCluster), MaxTasksPerRun: int(d.MaxTasksPerRun),
		Priority: merge.Priority(d.Priority), DryRun: d.DryRun, Enabled: d.Enabled,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), UpdatedBy: d.UpdatedBy,
	}
	for _, w := range d.Windows {
		p.Windows = append(p.Windows, merge.Window{Start: w.Start, DurationMinutes: int(w.DurationMinutes)})
	}
	return p
}

// CreatePolicy stores a new policy; Create's AlreadyExists is the name conflict.
func (s *Store) CreatePolicy(ctx context.Context, p *merge.Policy) error {
	if p.Name == "" {
		return merge.Errorf(merge.ErrInvalid, "policy name is required")
	}
	if err := checkID("policy", p.Name); err != nil {
		return merge.Errorf(merge.ErrInvalid, "policy name %q cannot be a Firestore document id", p.Name)
	}
	_, err := s.client.Collection(colPolicies).Doc(p.Name).Create(ctx, toPolicyDoc(p))
	if status.Code(err) == codes.AlreadyExists {
		return merge.Errorf(merge.ErrConflict, "policy %s already exists", p.Name)
	}
	if err != nil {
		return fmt.Errorf("firestore: create policy %s: %w", p.Name, translate(err))
	}
	return nil
}

// GetPolicy returns one policy.
func (s *Store) GetPolicy(ctx context.Context, name string) (*merge.Policy, error) {
	if err := checkID("policy", name); err != nil {
		return nil, err
	}
	snap, err := s.client.Collection(colPolicies).Doc(name).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, merge.Errorf(merge.ErrNotFound, "policy %q not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("firestore: get policy %s: %w", name, translate(err))
	}
	var d policyDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("firestore: decode policy %s: %w", name, err)
	}
	return d.policy(name), nil
}

// ListPolicies returns every policy ordered by name.
func (s *Store) ListPolicies(ctx context.Context) ([]*merge.Policy, error) {
	snaps, err := s.client.Collection(colPolicies).OrderBy(gfs.DocumentID, gfs.Asc).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: list policies: %w", translate(err))
	}
	out := make([]*merge.Policy, 0, len(snaps))
	for _, snap := range snaps {
		var d policyDoc
		if err := snap.DataTo(&d); err != nil {
			return nil, fmt.Errorf("firestore: decode policy %s: %w", snap.Ref.ID, err)
		}
		out = append(out, d.policy(snap.Ref.ID))
	}
	return out, nil
}

// UpdatePolicy replaces an existing policy. Update, unlike Set, requires the document to
// exist, so a missing policy is ErrNotFound and a concurrent delete is not undone.
func (s *Store) UpdatePolicy(ctx context.Context, p *merge.Policy) error {
	if err := checkID("policy", p.Name); err != nil {
		return err
	}
	_, err := s.client.Collection(colPolicies).Doc(p.Name).Update(ctx, fieldUpdates(toPolicyDoc(p)))
	if status.Code(err) == codes.NotFound {
		return merge.Errorf(merge.ErrNotFound, "policy %q not found", p.Name)
	}
	if err != nil {
		return fmt.Errorf("firestore: update policy %s: %w", p.Name, translate(err))
	}
	return nil
}

// DeletePolicy removes a policy; the Exists precondition makes a missing one ErrNotFound.
func (s *Store) DeletePolicy(ctx context.Context, name string) error {
	if err := checkID("policy", name); err != nil {
		return err
	}
	_, err := s.client.Collection(colPolicies).Doc(name).Delete(ctx, gfs.Exists)
	if status.Code(err) == codes.NotFound {
		return merge.Errorf(merge.ErrNotFound, "policy %q not found", name)
	}
	if err != nil {
		return fmt.Errorf("firestore: delete policy %s: %w", name, translate(err))
	}
	return nil
}
