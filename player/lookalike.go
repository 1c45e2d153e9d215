package player

import (
	"fmt"
	"strings"
	"sync"

	"github.com/mtibben/confusables"
)

// Look-alike names. Two names that a reader cannot tell apart on a screen
// ("AIice" with a capital i beside "Alice", "Adrnin" beside "Admin") are
// one name to a reader, so the talker treats them as one: a name whose
// skeleton is another account's skeleton, or a staff title's, cannot be
// registered or renamed to.
//
// The skeleton is Unicode TR39's (github.com/mtibben/confusables, which
// carries the consortium's confusables table: I and 1 become l, 0 becomes
// O, m becomes rn, ...), with the pairs TR39's table does not list but a
// terminal font makes just as alike: "vv" for "w" and "cl" for "d". Names
// are compared as shown and in lower case (Alike). Names are ASCII
// letters (ValidateName), so only the table's ASCII entries ever apply; the
// table is used rather than a hand-made list so that nothing is forgotten
// and so that the check stays right if names ever admit more than ASCII.

// skeleton is TR39's skeleton of s, then with "vv" for "w" and "cl" for
// "d". It keeps case: lower-casing would make "Lvan" and "Ivan" (whose I
// TR39 reads as l) alike, though they are not.
func skeleton(s string) string {
	s = confusables.Skeleton(s)
	s = strings.ReplaceAll(s, "vv", "w")
	s = strings.ReplaceAll(s, "cl", "d")
	return s
}

// Alike reports whether two names look alike: as they are shown, or
// written in lower case (a name's key ignores case, and "Moderator" is as
// much a moderator as "moderator").
func Alike(a, b string) bool {
	return skeleton(a) == skeleton(b) || lowerSkeleton(a) == lowerSkeleton(b)
}

// AlikeKeys are keys under which two names that look alike (Alike) meet:
// an index of existing names by these keys finds a new name's look-alike
// without comparing it with every account.
func AlikeKeys(name string) [2]string {
	return [2]string{"as shown:" + skeleton(name), "lower case:" + lowerSkeleton(name)}
}

// staffTitles are words a name may not look like, since a player called one
// of them would seem to speak for the talker.
var staffTitles = []string{
	"admin", "administrator", "sysadmin", "sysop", "moderator", "mod", "staff", "root", "owner",
	"god", "operator", "wizard", "superuser", "system", "talker", "angel", "support",
	"helpdesk", "official", "hcadmin",
}

// LooksLikeStaff reports an error if name looks like a staff title or a
// reserved word, in lower case, capitalised or in capitals. It looks the
// name's keys up in the titles' keys (staffKeys) rather than computing the
// skeletons of every title's forms again: that was 0.33 ms a call, called
// twice a registration, 8% of the talker's CPU at 10,000 registrations.
func LooksLikeStaff(name string) error {
	keys := staffKeys()
	for _, k := range AlikeKeys(name) {
		if keys[k] {
			return fmt.Errorf("%q looks like a staff title or a word the talker uses; please choose another name", name)
		}
	}
	return nil
}

// staffKeys are the AlikeKeys of every staff title and reserved word, in
// lower case, capitalised and in capitals: a name alike one of those forms
// (Alike) shares one of its keys. Computed once, read only after.
var staffKeys = sync.OnceValue(func() map[string]bool {
	keys := map[string]bool{}
	add := func(t string) {
		for _, form := range []string{t, strings.ToUpper(t[:1]) + t[1:], strings.ToUpper(t)} {
			for _, k := range AlikeKeys(form) {
				keys[k] = true
			}
		}
	}
	for _, t := range staffTitles {
		add(t)
	}
	for t := range reservedNames {
		add(t)
	}
	return keys
})

// LookAlike returns the first of names (other than name itself, by key)
// that looks like name, or "".
func LookAlike(name string, names []string) string {
	key := Key(name)
	for _, n := range names {
		if Key(n) != key && Alike(name, n) {
			return n
		}
	}
	return ""
}

// lowerSkeleton is the skeleton of a name written in lower case, itself in
// lower case (TR39 reads 0 as O).
func lowerSkeleton(s string) string { return strings.ToLower(skeleton(strings.ToLower(s))) }
