package player

import (
	"fmt"
	"strings"
)

// Name rules. Names are what other players type after "tell", so they are
// short, ASCII letters only (no look-alike Unicode, no spaces), and must not
// collide with words the talker uses itself.
const (
	MinNameLen = 2
	MaxNameLen = 16
)

// reservedNames cannot be registered: they would be confusing in "tell"
// and "who", or impersonate the system.
var reservedNames = map[string]bool{
	"admin": true, "administrator": true, "staff": true, "system": true, "root": true,
	"talker": true, "angel": true, "everyone": true, "all": true, "me": true, "you": true,
	"self": true, "someone": true, "somebody": true, "nobody": true, "guest": true,
	"new": true, "quit": true, "who": true, "help": true, "room": true, "server": true,
}

// ValidateName checks a proposed account name and returns it with its
// first letter upper-cased and the rest as typed, or an error that can be
// shown to the person typing it.
func ValidateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len(name) < MinNameLen || len(name) > MaxNameLen {
		return "", fmt.Errorf("names are %d to %d letters long", MinNameLen, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", fmt.Errorf("names may contain only the letters a to z")
		}
	}
	if reservedNames[Key(name)] {
		return "", fmt.Errorf("%q is reserved; please choose another name", name)
	}
	return strings.ToUpper(name[:1]) + name[1:], nil
}
