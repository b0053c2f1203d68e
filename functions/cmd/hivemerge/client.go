package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client calls the REST API.
type client struct {
	base    *url.URL
	token   string
	timeout time.Duration
}

// httpClient follows no redirect: the API answers where it is asked, and a redirect (to
// plain http, or elsewhere) must not take the token along.
var httpClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// maxResponse bounds what the client reads of one response.
const maxResponse = 64 << 20

// apiError is a response with a status other than 2xx.
type apiError struct {
	method, path string
	status       int
	code, msg    string
	// unsupported says the server has no route for the path at all: it predates the endpoint.
	unsupported bool
	// what names the command for the unsupported message.
	what string
}

func (e *apiError) Error() string {
	if e.unsupported {
		return fmt.Sprintf("this server does not support %s yet (404 on %s)", e.what, e.path)
	}
	msg := e.msg
	if msg == "" {
		msg = http.StatusText(e.status)
	}
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, msg)
}

func (e *apiError) exitCode() int {
	switch {
	case e.unsupported:
		return exitRefused
	case e.status == http.StatusUnauthorized || e.status == http.StatusForbidden:
		return exitAuth
	case e.status == http.StatusNotFound:
		return exitNotFound
	case e.status == http.StatusConflict:
		return exitConflict
	case e.status >= 500:
		return exitUnavailable
	}
	return exitRefused
}

// call sends one request and returns the response body of a 2xx answer. body, when not nil,
// is sent as JSON. what names the command in the message of an endpoint the server lacks.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body any, what string) ([]byte, error) {
	// path's segments are escaped already (seg), so the URL is put together as text.
	target := strings.TrimSuffix(c.base.String(), "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hivemerge-cli")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s %s: no answer within %s (--timeout)", method, path, c.timeout)
		}
		return nil, fmt.Errorf("%s unavailable: %w", c.base.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %w", method, path, unwrapURLError(err))
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	e := &apiError{method: method, path: path, status: resp.StatusCode, what: what}
	var eb struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(data, &eb) == nil {
		e.code, e.msg = eb.Error.Code, eb.Error.Message
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		e.msg = fmt.Sprintf("%s to %s, not followed: is --url right?", http.StatusText(resp.StatusCode), loc)
	}
	// The router answers a path it has no route for with "no such path"; a missing task or
	// cluster has a message of its own.
	e.unsupported = resp.StatusCode == http.StatusNotFound && what != "" && strings.HasPrefix(e.msg, "no such path")
	return nil, e
}

// unwrapURLError drops *url.Error's "Get "URL":" prefix, which repeats what the message
// already says.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// get, post and del call the API and decode a JSON answer into v (when not nil), returning
// the raw body for --json.
func (a *app) get(path string, query url.Values, v any) ([]byte, error) {
	return a.do(http.MethodGet, path, query, nil, v, "")
}

func (a *app) do(method, path string, query url.Values, body, v any, what string) ([]byte, error) {
	data, err := a.api.call(a.ctx, method, path, query, body, what)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			return data, fmt.Errorf("%s %s: the response is not what this client understands: %v", method, path, err)
		}
	}
	return data, nil
}

// seg escapes one path segment taken from the command line.
func seg(s string) string { return url.PathEscape(s) }
