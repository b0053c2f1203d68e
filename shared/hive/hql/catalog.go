package hql

// ShowTables returns SHOW TABLES IN `db`.
func ShowTables(db string) (string, error) {
	id, err := Ident(db)
	if err != nil {
		return "", err
	}
	return finish("SHOW TABLES IN " + id)
}
