package functions

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/hivemerge/hivemerge/functions/console"
)

// consoleFunction serves the web console. It needs no token and no configuration: the page
// and its scripts are public, and the API calls they make carry the user's bearer token.
const consoleFunction = "Console"

var consoleHandler = console.Handler()

func init() { functions.HTTP(consoleFunction, consoleHandler.ServeHTTP) }
