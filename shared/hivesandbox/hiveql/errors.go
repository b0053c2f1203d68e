package hiveql

import (
	"fmt"
	"strings"
)

// Prefixes HiveServer2 puts in front of the Driver's "FAILED: ..." text.
const (
	compilePrefix = "Error while compiling statement: "
	processPrefix = "Error while processing statement: "
)

// parseError is Hive's ParseException: SQLState 42000, code 40000.
func parseError(t token, rest []token, context string) *Error {
	near := make([]string, 0, 3)
	for _, n := range append([]token{t}, rest...) {
		if len(near) == 3 {
			break
		}
		near = append(near, "'"+n.String()+"'")
	}
	for len(near) < 3 {
		near = append(near, "'<EOF>'")
	}
	msg := fmt.Sprintf("cannot recognize input near %s", strings.Join(near, " "))
	if context != "" {
		msg += " in " + context
	}
	return parseErrorAt(t.line, t.col, msg)
}

func parseErrorAt(line, col int, msg string) *Error {
	return Errorf("42000", 40000, "%sFAILED: ParseException line %d:%d %s", compilePrefix, line, col, msg)
}

// semanticError is a SemanticException carrying one of Hive's ErrorMsg codes.
func semanticError(sqlState string, code int32, msg string) *Error {
	return Errorf(sqlState, code, "%sFAILED: SemanticException [Error %d]: %s", compilePrefix, code, msg)
}

// semanticErrorAt is a SemanticException whose message Hive prefixes with the AST position.
func semanticErrorAt(sqlState string, code int32, t token, msg string) *Error {
	return semanticError(sqlState, code, fmt.Sprintf("Line %d:%d %s", t.line, t.col, msg))
}

// genericSemanticError is a SemanticException without an ErrorMsg match: Hive prints no
// "[Error n]" and reports the generic code 40000.
func genericSemanticError(msg string) *Error {
	return Errorf("42000", 40000, "%sFAILED: SemanticException %s", compilePrefix, msg)
}

// ddlError is a DDLTask failure at execution time (return code 1, SQLState 08S01).
func ddlError(msg string) *Error {
	return Errorf("08S01", 1, "%sFAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. %s", processPrefix, msg)
}

// execError is a failed MapReduce/Tez job (return code 2, SQLState 08S01).
func execError(task string) *Error {
	return Errorf("08S01", 2, "%sFAILED: Execution Error, return code 2 from %s", processPrefix, task)
}

func tableNotFoundAt(t token, name string) *Error {
	return semanticErrorAt("42S02", 10001, t, fmt.Sprintf("Table not found '%s'", name))
}

func tableNotFound(name string) *Error {
	return semanticError("42S02", 10001, "Table not found "+name)
}

func databaseNotFound(name string) *Error {
	return semanticError("42000", 10072, "Database does not exist: "+name)
}

func invalidColumnAt(t token, name string, possible []string) *Error {
	return semanticErrorAt("42000", 10004, t, fmt.Sprintf("Invalid table alias or column reference '%s': (possible column names are: %s)", name, strings.Join(possible, ", ")))
}

func invalidFunctionAt(t token, name string) *Error {
	return semanticErrorAt("42000", 10011, t, fmt.Sprintf("Invalid function '%s'", name))
}

func partitionNotFound(spec string) *Error {
	return semanticError("42000", 10006, "Partition not found "+spec)
}

// invalidTableName is Hive's INVALID_TABLE_NAME, for a table name the sandbox cannot map to
// one directory (see validName).
func invalidTableName(name string) *Error {
	return semanticError("42000", 10255, "Invalid table name "+name)
}

// invalidDatabaseName words the metastore's refusal of a database name (HMSHandler's
// "is not a valid database name"), raised at compile time since the name is refused
// whatever the statement.
func invalidDatabaseName(name string) *Error {
	return genericSemanticError(name + " is not a valid database name")
}

// statementTooLong refuses a statement of n bytes, or of at least n once substituted, longer
// than the sandbox accepts; Hive has no such limit, so the message names the sandbox's.
func statementTooLong(n, limit int) *Error {
	return Errorf("42000", 40000, "%sFAILED: the sandbox refuses a statement of %d bytes: its limit is %d bytes", compilePrefix, n, limit)
}

// moveRefused is the MoveTask's failure when the sandbox refuses to replace a location's
// contents.
func moveRefused(err error) *Error {
	return Errorf("08S01", 1, "%sFAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.MoveTask. MetaException(message:%v)", processPrefix, err)
}
