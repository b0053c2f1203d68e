package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// Windows checks and evaluates policies' maintenance windows (merge.Window) with the
// scheduler's spec syntax. It is the merge.WindowChecker the policy service takes.
type Windows struct{}

var _ merge.WindowChecker = Windows{}

// CheckWindowStart accepts the specs ParseSpec accepts, except @every: a window opens at
// calendar times, and @every counts from whenever a scheduler started.
func (Windows) CheckWindowStart(spec string) error {
	_, err := parseWindowStart(spec)
	return err
}

// parseWindowStart parses a window's start in UTC unless it names its zone with CRON_TZ= (or
// TZ=), whatever zone the scheduler reads its own specs in, so that a policy means the same
// on every machine.
func parseWindowStart(spec string) (cron.Schedule, error) {
	s := strings.TrimSpace(spec)
	if !strings.HasPrefix(s, "CRON_TZ=") && !strings.HasPrefix(s, "TZ=") {
		s = "CRON_TZ=UTC " + s
	}
	sched, err := ParseSpec(s)
	if err != nil {
		return nil, err
	}
	if _, ok := sched.(cron.ConstantDelaySchedule); ok {
		return nil, fmt.Errorf("@every is not a calendar time; use five fields or @daily, @weekly")
	}
	return sched, nil
}

// maxActivations bounds the activations InWindow walks for one window: a window of the
// longest duration over a spec firing every minute.
const maxActivations = merge.MaxWindowMinutes + 1

// InWindow reports whether now is inside one of p's windows. When it is, next is when the
// open windows close (the latest end); when it is not, next is when the next window opens (zero
// if none ever does). A policy without windows is always open and next is zero. A window whose
// spec does not parse (Validate refuses those) never opens.
func InWindow(p *merge.Policy, now time.Time) (open bool, next time.Time) {
	if len(p.Windows) == 0 {
		return true, time.Time{}
	}
	var closes, opens time.Time
	for _, w := range p.Windows {
		sched, err := parseWindowStart(w.Start)
		if err != nil || w.DurationMinutes <= 0 {
			continue
		}
		dur := time.Duration(w.DurationMinutes) * time.Minute
		// Next is strictly after its argument, so the first activation found is the earliest
		// with start > now-dur, that is with now < start+dur.
		s := sched.Next(now.Add(-dur))
		for i := 0; i < maxActivations && !s.IsZero() && !s.After(now); i++ {
			open = true
			if end := s.Add(dur); end.After(closes) {
				closes = end
			}
			s = sched.Next(s)
		}
		if !s.IsZero() && s.After(now) && (opens.IsZero() || s.Before(opens)) {
			opens = s
		}
	}
	if open {
		return true, closes
	}
	return false, opens
}
