package hive

import (
	"context"
	"sort"
	"strings"

	"github.com/hivemerge/hivemerge/shared/hive/hql"
)

// Databases runs SHOW DATABASES and returns the names, sorted.
func (c *Client) Databases(ctx context.Context) ([]string, error) {
	stmt, err := hql.ShowDatabases()
	return c.names(ctx, stmt, err)
}

// Tables runs SHOW TABLES IN db and returns the names, sorted. Views are listed too: DESCRIBE
// FORMATTED tells them apart.
func (c *Client) Tables(ctx context.Context, db string) ([]string, error) {
	stmt, err := hql.ShowTables(db)
	return c.names(ctx, stmt, err)
}

// names returns the first column of a listing, trimmed, without empty rows.
func (c *Client) names(ctx context.Context, stmt string, err error) ([]string, error) {
	_, rows, err := c.queryStrings(ctx, stmt, err)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		if len(r) > 0 {
			if n := strings.TrimSpace(r[0]); n != "" {
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
