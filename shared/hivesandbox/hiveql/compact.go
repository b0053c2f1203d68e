package hiveql

// compactor runs queued compactions in the background, like Hive's compactor Worker.
func (w *Warehouse) compactor() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.compactWake:
		}
	}
}

func (w *Warehouse) wakeCompactor() {
	select {
	case w.compactWake <- struct{}{}:
	default:
	}
}
