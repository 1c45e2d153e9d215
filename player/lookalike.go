package player

import (
	"fmt"
	"strings"

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
// reserved word, in lower case, capitalised or in capitals.
func LooksLikeStaff(name string) error {
	check := func(t string) error {
		for _, form := range []string{t, strings.ToUpper(t[:1]) + t[1:], strings.ToUpper(t)} {
			if Alike(name, form) {
				return fmt.Errorf("%q looks like a staff title or a word the talker uses; please choose another name", name)
			}
		}
		return nil
	}
	for _, t := range staffTitles {
		if err := check(t); err != nil {
			return err
		}
	}
	for t := range reservedNames {
		if err := check(t); err != nil {
			return err
		}
	}
	return nil
}

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
