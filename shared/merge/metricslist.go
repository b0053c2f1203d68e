package merge

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// Validate checks a table listing's filter and fills its defaults.
func (f *TableMetricsFilter) Validate() error {
	if err := CheckClusterID("cluster_id", f.ClusterID); err != nil {
		return err
	}
	if f.Database != "" {
		if err := CheckIdentifier("database_name", f.Database); err != nil {
			return err
		}
	}
	if f.Strategy != "" && (!f.Strategy.Valid() || f.Strategy == StrategyAuto) {
		return Errorf(ErrInvalid, "strategy %q is not one of safe_merge, concatenate, insert_overwrite, acid_compact", f.Strategy)
	}
	switch f.Sort {
	case "":
		f.Sort = SortScore
	case SortScore, SortSavings, SortFiles, SortName:
	default:
		return Errorf(ErrInvalid, "sort %q is not one of score, savings, files, name", f.Sort)
	}
	if f.MaxScore < 0 || f.MaxScore > 100 {
		return Errorf(ErrInvalid, "max_score must be between 0 and 100")
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultListLimit
	case f.Limit < 0 || f.Limit > MaxListLimit:
		return Errorf(ErrInvalid, "limit must be between 1 and %d", MaxListLimit)
	}
	if _, err := pageOffset(f.PageToken); err != nil {
		return err
	}
	return nil
}

// PageTableMetrics filters, sorts and pages the latest metrics of a cluster's tables, for
// stores that read them all (a cluster's tables number in the thousands, a few kilobytes
// each). Page tokens are offsets into the sorted listing.
func PageTableMetrics(all []*TableMetrics, f TableMetricsFilter) (TableMetricsPage, error) {
	if err := f.Validate(); err != nil {
		return TableMetricsPage{}, err
	}
	kept := all[:0:0]
	for _, m := range all {
		switch {
		case m.ClusterID != f.ClusterID, f.Database != "" && m.Database != f.Database:
		case f.NeedsMerge && !m.Recommendation.Merge:
		case f.Strategy != "" && m.Recommendation.Strategy != f.Strategy:
		case f.MaxScore > 0 && m.Health.Score > f.MaxScore:
		default:
			kept = append(kept, m)
		}
	}
	byName := func(a, b *TableMetrics) int {
		return cmp.Or(strings.Compare(a.Database, b.Database), strings.Compare(a.Table, b.Table))
	}
	slices.SortFunc(kept, func(a, b *TableMetrics) int {
		switch f.Sort {
		case SortScore:
			return cmp.Or(cmp.Compare(a.Health.Score, b.Health.Score), byName(a, b))
		case SortSavings:
			return cmp.Or(cmp.Compare(b.Savings.NameNodeObjects, a.Savings.NameNodeObjects), byName(a, b))
		case SortFiles:
			return cmp.Or(cmp.Compare(b.Stats.Files, a.Stats.Files), byName(a, b))
		}
		return byName(a, b)
	})
	off, _ := pageOffset(f.PageToken)
	page := TableMetricsPage{Tables: []*TableMetrics{}, Total: len(kept)}
	if off < len(kept) {
		end := min(off+f.Limit, len(kept))
		page.Tables = kept[off:end]
		if end < len(kept) {
			page.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		}
	}
	return page, nil
}

func pageOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		if n, err := strconv.Atoi(string(b)); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, Errorf(ErrInvalid, "page_token is not valid")
}
