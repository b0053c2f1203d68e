package hivesandbox_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"

	"github.com/beltran/gohive"

	"github.com/hivemerge/hivemerge/shared/hivesandbox"
)

// A test starts a sandbox on a free port over a scratch warehouse, injects the faults it
// needs and talks to it with a real client.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "warehouse")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	srv, err := hivesandbox.Start(ctx, hivesandbox.Config{Addr: "127.0.0.1:0", Warehouse: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// The first DROP DATABASE fails as a Hive job would; a merge test would rather hang an
	// INSERT OVERWRITE at its commit point (Action: FaultHang, AtCommit: true) and cancel it.
	remove := srv.Inject(hivesandbox.Fault{Match: `^DROP DATABASE`, Action: hivesandbox.FaultFail, Times: 1})
	defer remove()

	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	cfg := gohive.NewConnectConfiguration()
	cfg.PollIntervalInMillis = 10
	conn, err := gohive.Connect(host, p, "NOSASL", cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	cur := conn.Cursor()
	defer cur.Close()

	cur.Exec(ctx, "CREATE DATABASE sales")
	cur.Exec(ctx, "DROP DATABASE sales")
	fmt.Println("drop failed:", cur.Err != nil)
	cur.Exec(ctx, "DROP DATABASE sales")
	fmt.Println("drop failed again:", cur.Err != nil)
	// Output:
	// drop failed: true
	// drop failed again: false
}
