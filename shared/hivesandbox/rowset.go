package hivesandbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/beltran/gohive/hiveserver"

	"github.com/hivemerge/hivemerge/shared/hivesandbox/hiveql"
)

// typeID maps an engine column type ("BIGINT", "VARCHAR(10)", "ARRAY<STRING>") to its wire type.
func typeID(t string) hiveserver.TTypeId {
	base := strings.ToUpper(strings.TrimSpace(t))
	if i := strings.IndexAny(base, "(<"); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	switch base {
	case "INTEGER":
		base = "INT"
	case "STRUCT", "MAP", "ARRAY", "UNION":
	case "UNIONTYPE":
		base = "UNION"
	}
	id, err := hiveserver.TTypeIdFromString(base + "_TYPE")
	if err != nil {
		return hiveserver.TTypeId_STRING_TYPE
	}
	return id
}

// schemaOf is the result-set metadata of res.
func schemaOf(res *hiveql.Result) *hiveserver.TTableSchema {
	schema := &hiveserver.TTableSchema{Columns: []*hiveserver.TColumnDesc{}}
	if res == nil {
		return schema
	}
	for i, c := range res.Columns {
		schema.Columns = append(schema.Columns, &hiveserver.TColumnDesc{
			ColumnName: c.Name,
			TypeDesc: &hiveserver.TTypeDesc{Types: []*hiveserver.TTypeEntry{{
				PrimitiveEntry: &hiveserver.TPrimitiveTypeEntry{Type: typeID(c.Type)},
			}}},
			Position: int32(i + 1),
		})
	}
	return schema
}

// rowSet encodes rows [from, to) of res column by column, the layout HiveServer2 uses from
// protocol V6 on. Rows stays an empty list: it is a required field that gohive ignores.
func rowSet(res *hiveql.Result, from, to int) (*hiveserver.TRowSet, error) {
	rs := &hiveserver.TRowSet{StartRowOffset: int64(from), Rows: []*hiveserver.TRow{}, Columns: []*hiveserver.TColumn{}}
	if res == nil {
		return rs, nil
	}
	rows := res.Rows[from:to]
	for i, c := range res.Columns {
		col, err := encodeColumn(typeID(c.Type), rows, i)
		if err != nil {
			return nil, fmt.Errorf("column %d (%s %s): %w", i+1, c.Name, c.Type, err)
		}
		rs.Columns = append(rs.Columns, col)
	}
	return rs, nil
}

// stringColumn builds a one-column string row set, the shape of log fetches.
func stringColumn(values []string) *hiveserver.TRowSet {
	return &hiveserver.TRowSet{
		Rows: []*hiveserver.TRow{},
		Columns: []*hiveserver.TColumn{{StringVal: &hiveserver.TStringColumn{
			Values: values, Nulls: make([]byte, (len(values)+7)/8),
		}}},
	}
}

// encodeColumn encodes column i of rows as the wire type id. NULLs are marked in a bitmap,
// lowest bit first, as Java's BitSet.toByteArray lays it out.
func encodeColumn(id hiveserver.TTypeId, rows [][]any, i int) (*hiveserver.TColumn, error) {
	nulls := make([]byte, (len(rows)+7)/8)
	switch id {
	case hiveserver.TTypeId_BOOLEAN_TYPE:
		vals, err := columnValues(rows, i, nulls, func(v any) (bool, error) {
			b, ok := v.(bool)
			if !ok {
				return false, fmt.Errorf("%T is not a bool", v)
			}
			return b, nil
		})
		if err != nil {
			return nil, err
		}
		return &hiveserver.TColumn{BoolVal: &hiveserver.TBoolColumn{Values: vals, Nulls: nulls}}, nil
	case hiveserver.TTypeId_TINYINT_TYPE, hiveserver.TTypeId_SMALLINT_TYPE, hiveserver.TTypeId_INT_TYPE, hiveserver.TTypeId_BIGINT_TYPE:
		vals, err := columnValues(rows, i, nulls, toInt)
		if err != nil {
			return nil, err
		}
		return intColumn(id, vals, nulls)
	case hiveserver.TTypeId_FLOAT_TYPE, hiveserver.TTypeId_DOUBLE_TYPE:
		vals, err := columnValues(rows, i, nulls, toFloat)
		if err != nil {
			return nil, err
		}
		return &hiveserver.TColumn{DoubleVal: &hiveserver.TDoubleColumn{Values: vals, Nulls: nulls}}, nil
	case hiveserver.TTypeId_BINARY_TYPE:
		vals, err := columnValues(rows, i, nulls, func(v any) ([]byte, error) {
			switch v := v.(type) {
			case []byte:
				return v, nil
			case string:
				return []byte(v), nil
			}
			return nil, fmt.Errorf("%T is not binary", v)
		})
		if err != nil {
			return nil, err
		}
		return &hiveserver.TColumn{BinaryVal: &hiveserver.TBinaryColumn{Values: vals, Nulls: nulls}}, nil
	default:
		vals, err := columnValues(rows, i, nulls, func(v any) (string, error) {
			switch v := v.(type) {
			case string:
				return v, nil
			case float64:
				return strconv.FormatFloat(v, 'g', -1, 64), nil
			}
			return fmt.Sprint(v), nil
		})
		if err != nil {
			return nil, err
		}
		return &hiveserver.TColumn{StringVal: &hiveserver.TStringColumn{Values: vals, Nulls: nulls}}, nil
	}
}

// columnValues converts column i of rows with conv, which sees only non-NULL values; a NULL
// is marked in nulls and left as T's zero value, which is what Hive sends in its place.
func columnValues[T any](rows [][]any, i int, nulls []byte, conv func(any) (T, error)) ([]T, error) {
	vals := make([]T, len(rows))
	for r, row := range rows {
		if i >= len(row) {
			return nil, fmt.Errorf("row %d has %d values", r, len(row))
		}
		if row[i] == nil {
			nulls[r/8] |= 1 << (r % 8)
			continue
		}
		v, err := conv(row[i])
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", r, err)
		}
		vals[r] = v
	}
	return vals, nil
}

func intColumn(id hiveserver.TTypeId, vals []int64, nulls []byte) (*hiveserver.TColumn, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch id {
	case hiveserver.TTypeId_TINYINT_TYPE:
		lo, hi = math.MinInt8, math.MaxInt8
	case hiveserver.TTypeId_SMALLINT_TYPE:
		lo, hi = math.MinInt16, math.MaxInt16
	case hiveserver.TTypeId_INT_TYPE:
		lo, hi = math.MinInt32, math.MaxInt32
	}
	for r, v := range vals {
		if v < lo || v > hi {
			return nil, fmt.Errorf("row %d: %d overflows %s", r, v, id)
		}
	}
	switch id {
	case hiveserver.TTypeId_TINYINT_TYPE:
		return &hiveserver.TColumn{ByteVal: &hiveserver.TByteColumn{Values: narrow[int8](vals), Nulls: nulls}}, nil
	case hiveserver.TTypeId_SMALLINT_TYPE:
		return &hiveserver.TColumn{I16Val: &hiveserver.TI16Column{Values: narrow[int16](vals), Nulls: nulls}}, nil
	case hiveserver.TTypeId_INT_TYPE:
		return &hiveserver.TColumn{I32Val: &hiveserver.TI32Column{Values: narrow[int32](vals), Nulls: nulls}}, nil
	}
	return &hiveserver.TColumn{I64Val: &hiveserver.TI64Column{Values: vals, Nulls: nulls}}, nil
}

// narrow converts values already checked to fit T.
func narrow[T int8 | int16 | int32](vals []int64) []T {
	out := make([]T, len(vals))
	for r, v := range vals {
		out[r] = T(v)
	}
	return out
}

func toInt(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

func toFloat(v any) (float64, error) {
	switch v := v.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case int:
		return float64(v), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%T is not a number", v)
}
