package hiveql

import (
	"context"
	"errors"
)

// GenerateOptions size a generated warehouse.
type GenerateOptions struct {
	Seed              int64
	Databases         []string
	TablesPerDB       int
	Days              int
	HoursPerDay       int
	FilesPerPartition int
	RowsPerFile       int
	MaxFiles          int
}

// GenerateReport counts what Generate created.
type GenerateReport struct {
	Tables     int
	Partitions int
	Files      int
	Bytes      int64
}

// Generate fills w with databases and tables full of small files.
func Generate(ctx context.Context, w *Warehouse, opts GenerateOptions) (GenerateReport, error) {
	return GenerateReport{}, errors.New("hiveql: Generate not implemented yet")
}
