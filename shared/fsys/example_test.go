package fsys_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hivemerge/hivemerge/shared/fsys"
	"github.com/hivemerge/hivemerge/shared/fsys/localfs"
	"github.com/hivemerge/hivemerge/shared/fsys/scan"
)

// A program configures each scheme once and then works from table locations. In production
// the map also holds "hdfs": hdfsfs.Opener(cfg) and "gs": gcsfs.Opener(client, opts).
func Example() {
	dir, _ := os.MkdirTemp("", "warehouse")
	defer os.RemoveAll(dir)
	for _, name := range []string{"dt=2024-01-01/000000_0", "dt=2024-01-01/_SUCCESS", "dt=2024-01-02/000000_0"} {
		p := filepath.Join(dir, "t", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("row\n"), 0o644)
	}

	r := fsys.NewResolver(map[string]fsys.Opener{"file": localfs.Opener()})
	defer r.Close()
	results, err := scan.Scanner{}.Locations(context.Background(), r, []string{"file://" + filepath.Join(dir, "t")})
	if err != nil {
		panic(err)
	}
	for _, res := range results {
		fmt.Printf("files=%d bytes=%d %s=%d err=%v\n", res.Files, res.Bytes, scan.Labels[0], res.Sizes[0], res.Err)
	}
	// Output: files=2 bytes=8 <1MB=2 err=<nil>
}
