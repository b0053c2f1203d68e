package functions

import (
	"net/http"

	"github.com/hivemerge/hivemerge/functions/console"
)

// consoleHandler serves the web console. It needs no token and no configuration: the page
// and its scripts are public, and the API calls they make carry the user's bearer token.
var consoleHandler = console.Handler()

// withConsole serves the web console at /console/ beside api, the REST router. The console
// calls the API at ../api/v1, relative to its page, so it shares the API's origin and any
// prefix the platform puts before it (/API/console/ calls /API/api/v1): no CORS, no
// configured URL, and the console's connect-src 'self' holds. / leads to the console.
//
// The redirects are relative for that prefix's sake: http.Redirect would make them absolute.
func withConsole(api http.Handler) http.Handler {
	toConsole := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "console/")
		w.WriteHeader(http.StatusFound)
	})
	m := http.NewServeMux()
	m.Handle("/", api)
	m.Handle("GET /{$}", toConsole)
	m.Handle("GET /console", toConsole)
	m.Handle("/console/", http.StripPrefix("/console", consoleHandler))
	return m
}
