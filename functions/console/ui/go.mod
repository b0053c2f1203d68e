// The console's npm project is no part of the Go module: this file keeps node_modules, which
// may hold .go files, out of `go build ./...` and `go vet ./...`.
module github.com/hivemerge/hivemerge/functions/console/ui

go 1.26
