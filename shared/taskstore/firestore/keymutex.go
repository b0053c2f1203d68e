package firestore

import "sync"

// keyMutex serialises work on one key within this process. Writers that race for one
// document in the same process would otherwise mostly lose compare-and-set rounds to each
// other; queueing them locally leaves the retries to races between processes.
type keyMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	waiters int
}

// lock locks key and returns the function that unlocks it. Entries are dropped when no one
// holds or waits for them, so the map stays as small as the set of keys in use.
func (m *keyMutex) lock(key string) (unlock func()) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*keyLock{}
	}
	l := m.locks[key]
	if l == nil {
		l = &keyLock{}
		m.locks[key] = l
	}
	l.waiters++
	m.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		m.mu.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
}
