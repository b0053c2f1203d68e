package hive

import (
	"context"
	"errors"
	"strings"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
	"github.com/hivemerge/hivemerge/shared/merge"
)

// Spec validates partition values against the table's partition keys (see hql.NewSpec).
func (t *Table) Spec(values map[string]string) (hql.Spec, error) {
	cols := make([]hql.Column, len(t.PartitionKeys))
	for i, k := range t.PartitionKeys {
		cols[i] = hql.Column{Name: k.Name, Type: k.Type}
	}
	return hql.NewSpec(cols, values)
}

// DataColumns returns the names of the non-partition columns, in table order.
func (t *Table) DataColumns() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

func (c *Client) queryStrings(ctx context.Context, stmt string, err error) ([]string, [][]string, error) {
	if err != nil {
		return nil, nil, err
	}
	res, err := c.Query(ctx, stmt, nil)
	if err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Strings(), nil
}

// DescribeTable runs DESCRIBE FORMATTED t and parses it.
func (c *Client) DescribeTable(ctx context.Context, t hql.Table) (*Table, error) {
	stmt, err := hql.DescribeFormatted(t, hql.Spec{})
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	return ParseTable(rows)
}

// DescribePartition runs DESCRIBE FORMATTED t PARTITION (spec) and parses it.
func (c *Client) DescribePartition(ctx context.Context, t hql.Table, spec hql.Spec) (*PartitionDetail, error) {
	if spec.Empty() {
		return nil, merge.Errorf(merge.ErrInvalid, "hive: DescribePartition needs a partition spec")
	}
	stmt, err := hql.DescribeFormatted(t, spec)
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	return ParsePartitionDetail(rows)
}

// Partitions runs SHOW PARTITIONS t [PARTITION (filter)]. filter carries the table's partition
// keys, which make the parse strict.
func (c *Client) Partitions(ctx context.Context, t hql.Table, filter hql.Spec) ([]Partition, error) {
	stmt, err := hql.ShowPartitions(t, filter)
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, col := range filter.Columns() {
		keys = append(keys, col.Name)
	}
	return ParsePartitions(rows, keys)
}

// TableStatus runs SHOW TABLE EXTENDED for t (one partition if spec is not empty) and returns
// the block of that table: live file counts and sizes.
func (c *Client) TableStatus(ctx context.Context, t hql.Table, spec hql.Spec) (*TableStatus, error) {
	stmt, err := hql.ShowTableExtended(t, spec)
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	return tableStatusOf(t, rows)
}

// tableStatusOf picks t's block from the rows of SHOW TABLE EXTENDED: none, or no rows at all,
// means t does not exist.
func tableStatusOf(t hql.Table, rows [][]string) (*TableStatus, error) {
	all, err := ParseTableStatus(rows)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if strings.EqualFold(all[i].TableName, t.Name) {
			return &all[i], nil
		}
	}
	return nil, merge.Errorf(merge.ErrNotFound, "hive: table %s not found (SHOW TABLE EXTENDED did not list it)", t)
}

// TableProperties runs SHOW TBLPROPERTIES t.
func (c *Client) TableProperties(ctx context.Context, t hql.Table) (*TableProperties, error) {
	stmt, err := hql.ShowTableProperties(t)
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	return ParseTableProperties(rows)
}

// Compactions runs SHOW COMPACTIONS.
func (c *Client) Compactions(ctx context.Context) ([]Compaction, error) {
	stmt, err := hql.ShowCompactions()
	cols, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	return ParseCompactions(cols, rows)
}

// Checksum runs the validation query of hql.Checksum: row count and order-independent hash
// sum of cols over the rows selected by where.
func (c *Client) Checksum(ctx context.Context, t hql.Table, cols []string, where hql.Spec) (Checksum, error) {
	stmt, err := hql.Checksum(t, cols, where)
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return Checksum{}, err
	}
	return ParseChecksum(rows)
}

// DropExternalTable drops t only if DESCRIBE FORMATTED shows an EXTERNAL_TABLE whose data a
// drop does not delete (external.table.purge is not true). A missing table is not an error.
func (c *Client) DropExternalTable(ctx context.Context, t hql.Table) error {
	tb, err := c.DescribeTable(ctx, t)
	if err != nil {
		if errors.Is(err, merge.ErrNotFound) {
			return nil
		}
		return err
	}
	if tb.TableType != ExternalTable {
		return merge.Errorf(merge.ErrForbidden, "hive: refusing to drop %s: it is %s, and dropping it would delete its data", t, tb.TableType)
	}
	if strings.EqualFold(lowerKeys(tb.Parameters)["external.table.purge"], "true") {
		return merge.Errorf(merge.ErrForbidden, "hive: refusing to drop %s: external.table.purge=true would delete its data", t)
	}
	stmt, err := hql.DropExternalTable(t)
	if err != nil {
		return err
	}
	return c.Exec(ctx, stmt, nil)
}
