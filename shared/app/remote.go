package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"google.golang.org/api/idtoken"

	"github.com/hivemerge/hivemerge/shared/merge"
)

// ExecuteFunction is the entry point that runs tasks in a deployment (ModeSync); ModeRemote
// hands tasks to it.
const ExecuteFunction = "ExecuteTask"

// IDTokenFunc returns a bearer token for calls to audience: a Google ID token minted for the
// instance's service account in a deployment.
type IDTokenFunc func(ctx context.Context, audience string) (string, error)

// Remote hands tasks to the deployed ExecuteTask function over HTTPS, with a Google ID token
// whose audience is the function's URL. It is the dispatcher of ModeRemote.
//
// A deployed function keeps CPU only while it handles a request, and nothing documents that
// Cloud Run keeps running a request whose caller went away. So a hand-off is a request that
// ExecuteTask serves to the end of the task (ModeSync, up to the function's timeout), and
// Remote holds it open: Submit returns as soon as the store shows the task claimed, and the
// request goes on in the background of this instance. Queues with OIDC targets (Cloud Tasks,
// Cloud Scheduler) would hold it for at most 30 minutes, less than ExecuteTask's 3600 s, so
// they cut long merges short the same way. Nothing relies on the held request for
// correctness: the claim is exactly-once, a task whose request is cut short keeps its lease
// until it expires, then the pending check requeues it and the next dispatch or resume
// continues it from its recorded step; a hand-off that fails leaves the task pending.
type Remote struct {
	url     string
	token   IDTokenFunc
	client  *http.Client
	svc     *merge.Service
	log     *slog.Logger
	ctx     context.Context
	handoff time.Duration
	poll    time.Duration

	mu   sync.Mutex
	held map[string]bool
	wg   sync.WaitGroup
}

// Hand-off limits: how long Submit waits for ExecuteTask to claim a task (a cold start
// included), how often it looks, and how long a held request may last (ExecuteTask's
// timeout is at most 3600 s).
const (
	handoffTimeout = 2 * time.Minute
	handoffPoll    = 250 * time.Millisecond
	heldTimeout    = 65 * time.Minute
)

func newRemote(ctx context.Context, target string, token IDTokenFunc, svc *merge.Service, logger *slog.Logger) *Remote {
	if token == nil {
		token = googleIDTokens()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Remote{url: target, token: token, client: &http.Client{Timeout: heldTimeout}, svc: svc, log: logger, ctx: ctx,
		handoff: handoffTimeout, poll: handoffPoll, held: map[string]bool{}}
}

// Submit hands task id to ExecuteTask and returns once it is claimed there (or has already
// finished). It reports false when this process already holds a hand-off of id or the task
// finished meanwhile, fails with merge.ErrBusy when ExecuteTask has no room (429), and with
// a *HandoffError when ExecuteTask could not be reached or refused the task: the task then
// stays pending.
func (r *Remote) Submit(id string) (bool, error) {
	r.mu.Lock()
	if r.held[id] {
		r.mu.Unlock()
		return false, nil
	}
	r.held[id] = true
	r.mu.Unlock()

	started := time.Now()
	ctx, cancel := context.WithCancel(r.ctx)
	answer := make(chan error, 1)
	r.wg.Go(func() {
		defer cancel()
		err := r.call(ctx, id)
		r.mu.Lock()
		delete(r.held, id)
		r.mu.Unlock()
		answer <- err
	})

	deadline := time.NewTimer(r.handoff)
	defer deadline.Stop()
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	for {
		select {
		case err := <-answer:
			if errors.Is(err, merge.ErrConflict) {
				return false, nil
			}
			return err == nil, err
		case <-tick.C:
			t, err := r.svc.GetTask(ctx, id)
			if err != nil {
				continue
			}
			// Claimed: running under a lease taken since the hand-off began (an expired
			// lease is the run this hand-off resumes), or already over.
			if !t.Status.Active() || t.Status == merge.StatusRunning && t.LeaseExpires.After(started) {
				return true, nil
			}
		case <-deadline.C:
			cancel()
			return false, &HandoffError{Task: id, Reason: fmt.Sprintf("ExecuteTask did not take it within %s", r.handoff)}
		case <-r.ctx.Done():
			cancel()
			return false, &HandoffError{Task: id, Reason: "this instance is shutting down"}
		}
	}
}

// wait blocks until every held request has ended.
func (r *Remote) wait() { r.wg.Wait() }

// call posts the execute request of id to ExecuteTask and waits for its answer, which comes
// when the task ends there. The task's id is the function's ?id= parameter.
func (r *Remote) call(ctx context.Context, id string) error {
	tok, err := r.token(ctx, r.url)
	if err != nil {
		r.log.Error("minting an ID token for ExecuteTask", "task_id", id, "error", err.Error())
		return &HandoffError{Task: id, Reason: "no ID token could be minted for ExecuteTask"}
	}
	u := r.url + "?" + url.Values{"id": {id}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return &HandoffError{Task: id, Reason: "the ExecuteTask URL is not valid"}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("handing a task to ExecuteTask", "task_id", id, "error", err.Error())
		}
		return &HandoffError{Task: id, Reason: "ExecuteTask could not be reached"}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Error.Message
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	switch resp.StatusCode {
	case http.StatusConflict:
		return merge.Errorf(merge.ErrConflict, "%s", msg)
	case http.StatusNotFound:
		return merge.Errorf(merge.ErrNotFound, "%s", msg)
	case http.StatusTooManyRequests:
		return merge.Errorf(merge.ErrBusy, "%s", msg)
	}
	r.log.Warn("ExecuteTask refused a task", "task_id", id, "status", resp.StatusCode, "code", e.Error.Code, "message", msg)
	return &HandoffError{Task: id, Reason: fmt.Sprintf("ExecuteTask answered %d: %s", resp.StatusCode, msg)}
}

// HandoffError is a hand-off to ExecuteTask that failed: the task stays pending. Reason is
// safe to show to the caller.
type HandoffError struct {
	Task   string
	Reason string
}

func (e *HandoffError) Error() string {
	return fmt.Sprintf("could not hand task %s to ExecuteTask: %s", e.Task, e.Reason)
}

// googleIDTokens mints ID tokens with the instance's credentials (the metadata server in a
// deployment). The token source of an audience is made on first use and reused, since it
// caches its token until shortly before it expires.
func googleIDTokens() IDTokenFunc {
	var mu sync.Mutex
	sources := map[string]func() (string, error){}
	return func(_ context.Context, audience string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		src, ok := sources[audience]
		if !ok {
			// The source outlives the request that first needs it.
			ts, err := idtoken.NewTokenSource(context.Background(), audience)
			if err != nil {
				return "", err
			}
			src = func() (string, error) {
				t, err := ts.Token()
				if err != nil {
					return "", err
				}
				return t.AccessToken, nil
			}
			sources[audience] = src
		}
		return src()
	}
}

// ParseFunctionURLs reads HIVEMERGE_FUNCTION_URLS: a JSON object of entry point -> URL of the
// deployment's functions. A URL must be https, or http on a loopback address (tests and
// local runs); it may have no query or fragment, since a hand-off adds ?id=.
func ParseFunctionURLs(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, errors.New("want a JSON object of entry point to URL")
	}
	for fn, raw := range m {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%s: %q is not an absolute URL without query", fn, raw)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			return nil, fmt.Errorf("%s: %q must be https (http only on a loopback address)", fn, raw)
		}
	}
	return m, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
