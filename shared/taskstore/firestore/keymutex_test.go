package firestore

import (
	"sync"
	"testing"
)

func TestKeyMutex(t *testing.T) {
	var m keyMutex
	var counts [2]int
	var wg sync.WaitGroup
	for i := range 50 {
		k := i % 2
		key := []string{"a", "b"}[k]
		wg.Go(func() {
			for range 100 {
				unlock := m.lock(key)
				counts[k]++ // the race detector flags this if two holders of one key overlap
				unlock()
			}
		})
	}
	wg.Wait()
	if counts != [2]int{2500, 2500} {
		t.Errorf("counts %v", counts)
	}
	if len(m.locks) != 0 {
		t.Errorf("%d entries left behind", len(m.locks))
	}
}
