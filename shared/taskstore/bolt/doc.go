package bolt

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// taskDocVersion is the version of taskDoc this package writes. Version 0 is a file written
// before taskDoc existed, when the tasks bucket held the API's JSON of merge.Task; taskDoc
// keeps that JSON's field names, so such a file reads as it is, without a migration.
const taskDocVersion = 1

// taskDoc is a task as the tasks bucket stores it, as JSON. It is the file format: the API's
// JSON of merge.Task may change without changing what existing files mean.
type taskDoc struct {
	Version int `json:"v,omitempty"`

	ID             string              `json:"id"`
	Name           string              `json:"task_name"`
	ClusterID      string              `json:"cluster_id"`
	Database       string              `json:"database_name"`
	Table          string              `json:"table_name"`
	Partitions     []map[string]string `json:"partition_filter,omitempty"`
	Strategy       string              `json:"merge_strategy"`
	ChosenStrategy string              `json:"chosen_strategy,omitempty"`
	StrategyReason string              `json:"strategy_reason,omitempty"`
	TargetFileSize int64               `json:"target_file_size_bytes,omitempty"`

	Status          string    `json:"status"`
	CancelRequested bool      `json:"cancel_requested"`
	LeaseOwner      string    `json:"lease_owner,omitempty"`
	LeaseExpires    time.Time `json:"lease_expires,omitzero"`

	Step     string `json:"step,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
	Progress int    `json:"progress"`

	CreatedBy   string `json:"created_by,omitempty"`
	ExecutedBy  string `json:"executed_by,omitempty"`
	CancelledBy string `json:"cancelled_by,omitempty"`

	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`

	Stats statsDoc `json:"statistics"`
	Error string   `json:"error,omitempty"`

	// Checkpoint is the executor's merge.Checkpoint as JSON, as the Firestore store keeps it:
	// only the executor reads it, and always whole.
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
}

type statsDoc struct {
	FilesBefore   int64 `json:"files_before"`
	FilesAfter    int64 `json:"files_after"`
	BytesBefore   int64 `json:"bytes_before"`
	BytesAfter    int64 `json:"bytes_after"`
	RowsValidated int64 `json:"rows_validated"`
	DurationMS    int64 `json:"duration_ms"`
}

// encodeTask is the stored form of t.
func encodeTask(t *merge.Task) ([]byte, error) {
	d := taskDoc{
		Version:         taskDocVersion,
		ID:              t.ID,
		Name:            t.Name,
		ClusterID:       t.ClusterID,
		Database:        t.Database,
		Table:           t.Table,
		Strategy:        string(t.Strategy),
		ChosenStrategy:  string(t.ChosenStrategy),
		StrategyReason:  t.StrategyReason,
		TargetFileSize:  t.TargetFileSize,
		Status:          string(t.Status),
		CancelRequested: t.CancelRequested,
		LeaseOwner:      t.LeaseOwner,
		LeaseExpires:    t.LeaseExpires,
		Step:            t.Step,
		Attempt:         t.Attempt,
		Progress:        t.Progress,
		CreatedBy:       t.CreatedBy,
		ExecutedBy:      t.ExecutedBy,
		CancelledBy:     t.CancelledBy,
		CreatedAt:       t.CreatedAt,
		UpdatedAt:       t.UpdatedAt,
		StartedAt:       t.StartedAt,
		FinishedAt:      t.FinishedAt,
		Stats: statsDoc{
			FilesBefore:   t.Stats.FilesBefore,
			FilesAfter:    t.Stats.FilesAfter,
			BytesBefore:   t.Stats.BytesBefore,
			BytesAfter:    t.Stats.BytesAfter,
			RowsValidated: t.Stats.RowsValidated,
			DurationMS:    t.Stats.DurationMS,
		},
		Error: t.Error,
	}
	for _, p := range t.Partitions {
		d.Partitions = append(d.Partitions, p)
	}
	if t.Checkpoint != nil {
		cp, err := json.Marshal(t.Checkpoint)
		if err != nil {
			return nil, fmt.Errorf("bolt: encode checkpoint of task %s: %w", t.ID, err)
		}
		d.Checkpoint = cp
	}
	data, err := json.Marshal(&d)
	if err != nil {
		return nil, fmt.Errorf("bolt: encode task %s: %w", t.ID, err)
	}
	return data, nil
}

// decodeTask reads a stored task of any version up to taskDocVersion.
func decodeTask(id string, data []byte) (*merge.Task, error) {
	var d taskDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("bolt: decode task %s: %w", id, err)
	}
	if d.Version > taskDocVersion {
		return nil, fmt.Errorf("bolt: task %s was stored by a newer hivemerge (format %d; this one reads up to %d): %w", id, d.Version, taskDocVersion, merge.ErrUnavailable)
	}
	t := &merge.Task{
		ID:              id, // the key; the document repeats it
		Name:            d.Name,
		ClusterID:       d.ClusterID,
		Database:        d.Database,
		Table:           d.Table,
		Strategy:        merge.Strategy(d.Strategy),
		ChosenStrategy:  merge.Strategy(d.ChosenStrategy),
		StrategyReason:  d.StrategyReason,
		TargetFileSize:  d.TargetFileSize,
		Status:          merge.Status(d.Status),
		CancelRequested: d.CancelRequested,
		LeaseOwner:      d.LeaseOwner,
		LeaseExpires:    d.LeaseExpires,
		Step:            d.Step,
		Attempt:         d.Attempt,
		Progress:        d.Progress,
		CreatedBy:       d.CreatedBy,
		ExecutedBy:      d.ExecutedBy,
		CancelledBy:     d.CancelledBy,
		CreatedAt:       d.CreatedAt,
		UpdatedAt:       d.UpdatedAt,
		StartedAt:       d.StartedAt,
		FinishedAt:      d.FinishedAt,
		Stats: merge.Stats{
			FilesBefore:   d.Stats.FilesBefore,
			FilesAfter:    d.Stats.FilesAfter,
			BytesBefore:   d.Stats.BytesBefore,
			BytesAfter:    d.Stats.BytesAfter,
			RowsValidated: d.Stats.RowsValidated,
			DurationMS:    d.Stats.DurationMS,
		},
		Error: d.Error,
	}
	for _, p := range d.Partitions {
		t.Partitions = append(t.Partitions, merge.PartitionSpec(p))
	}
	if len(d.Checkpoint) > 0 && string(d.Checkpoint) != "null" {
		t.Checkpoint = new(merge.Checkpoint)
		if err := json.Unmarshal(d.Checkpoint, t.Checkpoint); err != nil {
			return nil, fmt.Errorf("bolt: decode checkpoint of task %s: %w", id, err)
		}
	}
	return t, nil
}
