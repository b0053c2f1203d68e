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
	n := len(rows)
	nulls := make([]byte, (n+7)/8)
	value := func(r int) (any, error) {
		if i >= len(rows[r]) {
			return nil, fmt.Errorf("row %d has %d values", r, len(rows[r]))
		}
		v := rows[r][i]
		if v == nil {
			nulls[r/8] |= 1 << (r % 8)
		}
		return v, nil
	}
	switch id {
	case hiveserver.TTypeId_BOOLEAN_TYPE:
		vals := make([]bool, n)
		for r := range rows {
			v, err := value(r)
			if err != nil {
				return nil, err
			}
			if v != nil {
				b, ok := v.(bool)
				if !ok {
					return nil, fmt.Errorf("row %d: %T is not a bool", r, v)
				}
				vals[r] = b
			}
		}
		return &hiveserver.TColumn{BoolVal: &hiveserver.TBoolColumn{Values: vals, Nulls: nulls}}, nil
	case hiveserver.TTypeId_TINYINT_TYPE, hiveserver.TTypeId_SMALLINT_TYPE, hiveserver.TTypeId_INT_TYPE, hiveserver.TTypeId_BIGINT_TYPE:
		vals := make([]int64, n)
		for r := range rows {
			v, err := value(r)
			if err != nil {
				return nil, err
			}
			if v != nil {
				if vals[r], err = toInt(v); err != nil {
					return nil, fmt.Errorf("row %d: %w", r, err)
				}
			}
		}
		return intColumn(id, vals, nulls)
	case hiveserver.TTypeId_FLOAT_TYPE, hiveserver.TTypeId_DOUBLE_TYPE:
		vals := make([]float64, n)
		for r := range rows {
			v, err := value(r)
			if err != nil {
				return nil, err
			}
			if v != nil {
				if vals[r], err = toFloat(v); err != nil {
					return nil, fmt.Errorf("row %d: %w", r, err)
				}
			}
		}
		return &hiveserver.TColumn{DoubleVal: &hiveserver.TDoubleColumn{Values: vals, Nulls: nulls}}, nil
	case hiveserver.TTypeId_BINARY_TYPE:
		vals := make([][]byte, n)
		for r := range rows {
			v, err := value(r)
			if err != nil {
				return nil, err
			}
			switch v := v.(type) {
			case nil:
				vals[r] = []byte{}
			case []byte:
				vals[r] = v
			case string:
				vals[r] = []byte(v)
			default:
				return nil, fmt.Errorf("row %d: %T is not binary", r, v)
			}
		}
		return &hiveserver.TColumn{BinaryVal: &hiveserver.TBinaryColumn{Values: vals, Nulls: nulls}}, nil
	default:
		vals := make([]string, n)
		for r := range rows {
			v, err := value(r)
			if err != nil {
				return nil, err
			}
			switch v := v.(type) {
			case nil:
			case string:
				vals[r] = v
			case float64:
				vals[r] = strconv.FormatFloat(v, 'g', -1, 64)
			default:
				vals[r] = fmt.Sprint(v)
			}
		}
		return &hiveserver.TColumn{StringVal: &hiveserver.TStringColumn{Values: vals, Nulls: nulls}}, nil
	}
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
		out := make([]int8, len(vals))
		for r, v := range vals {
			out[r] = int8(v)
		}
		return &hiveserver.TColumn{ByteVal: &hiveserver.TByteColumn{Values: out, Nulls: nulls}}, nil
	case hiveserver.TTypeId_SMALLINT_TYPE:
		out := make([]int16, len(vals))
		for r, v := range vals {
			out[r] = int16(v)
		}
		return &hiveserver.TColumn{I16Val: &hiveserver.TI16Column{Values: out, Nulls: nulls}}, nil
	case hiveserver.TTypeId_INT_TYPE:
		out := make([]int32, len(vals))
		for r, v := range vals {
			out[r] = int32(v)
		}
		return &hiveserver.TColumn{I32Val: &hiveserver.TI32Column{Values: out, Nulls: nulls}}, nil
	}
	return &hiveserver.TColumn{I64Val: &hiveserver.TI64Column{Values: vals, Nulls: nulls}}, nil
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
