// Command package-source writes the source archive Terraform uploads for the Cloud Functions
// (see package srcpack): go.mod, go.sum, the generated root package and the packages of this
// module that ./functions needs, with fixed timestamps and sorted entries.
//
//	go run ./infra/cmd/package-source -o dist/function-source.zip
package main

import (
	"bytes"
	"crypto/md5"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hivemerge/hivemerge/infra/internal/srcpack"
)

func main() {
	out := flag.String("o", "dist/function-source.zip", "archive to write")
	root := flag.String("root", "", "module root (default: the current module's)")
	list := flag.Bool("v", false, "list the archive's entries")
	flag.Parse()
	if err := run(*out, *root, *list); err != nil {
		fmt.Fprintln(os.Stderr, "package-source:", err)
		os.Exit(1)
	}
}

func run(out, root string, list bool) error {
	if root == "" {
		b, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			return fmt.Errorf("go env GOMOD: %w", err)
		}
		gomod := strings.TrimSpace(string(b))
		if gomod == "" || gomod == os.DevNull {
			return fmt.Errorf("not inside a Go module; pass -root")
		}
		root = filepath.Dir(gomod)
	}
	var buf bytes.Buffer
	names, err := srcpack.Build(&buf, srcpack.Options{Root: root})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	if list {
		for _, n := range names {
			fmt.Println(n)
		}
	}
	fmt.Printf("%s: %d files, %d bytes, md5 %x\n", out, len(names), buf.Len(), md5.Sum(buf.Bytes()))
	return nil
}
